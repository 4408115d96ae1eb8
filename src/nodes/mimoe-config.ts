/**
 * mimoe-config: where the mimOE runtime is and how to authenticate. It owns the one McmClient
 * (keep-alive pool, concurrency bound) that every action node naming it shares, and closes it
 * on redeploy, the way Node-RED's MQTT broker node owns its connection.
 */
import { McmClient } from '../mcm/client';
import { upgradeConfig, versionSetting } from './shared/config-version';
import { clientOptions, ConfigCredentials, ConfigSettings } from './shared/config-client';
import { registerEditorRoutes } from './shared/editor-api';
import { MimoeConfigNode, NodeConfig, RED } from './shared/runtime';

export = function (RED: RED) {
  function MimoeConfig(this: MimoeConfigNode & { credentials: ConfigCredentials }, saved: NodeConfig & ConfigSettings) {
    RED.nodes.createNode(this, saved);
    const config = upgradeConfig(RED, this, saved);
    try {
      this.client = new McmClient(clientOptions(RED, config, this.credentials ?? {}, (text) => this.warn(text)));
    } catch (err) {
      this.problem = err instanceof Error ? err.message : String(err);
      this.error(RED._('mimoe-config.errors.unusable', { reason: this.problem }));
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      this.client?.close();
      done();
    });
  }
  RED.nodes.registerType('mimoe-config', MimoeConfig as never, {
    credentials: { token: { type: 'password' } },
    ...versionSetting('mimoe-config'),
  });
  registerEditorRoutes(RED);
};
