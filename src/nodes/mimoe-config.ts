/**
 * mimoe-config: where the mimOE runtime is and how to authenticate. It owns the one McmClient
 * (keep-alive pool, concurrency bound) that every action node naming it shares, and closes it
 * on redeploy, the way Node-RED's MQTT broker node owns its connection.
 */
import type { Request, Response } from 'express';
import { McmClient } from '../mcm/client';
import { clientOptions, ConfigCredentials, ConfigSettings } from './shared/config-client';
import { describeFailure } from './shared/errors';
import { MimoeConfigNode, NodeConfig, RED } from './shared/runtime';

/** What the editor posts to the admin endpoints: the dialog's current values, deployed or not. */
interface EditorQuery {
  /** The config node's id, to fall back to its saved token when the dialog shows the placeholder. */
  id?: string;
  settings?: ConfigSettings;
  token?: string;
}

/** Node-RED sends this in place of a stored password the editor never sees. */
const PASSWORD_PLACEHOLDER = '__PWRD__';

function timedOutClient(RED: RED, query: EditorQuery): McmClient {
  const saved = query.id ? (RED.nodes.getCredentials(query.id) as ConfigCredentials | undefined) : undefined;
  const token = !query.token || query.token === PASSWORD_PLACEHOLDER ? saved?.token : query.token;
  // A short timeout: a person is waiting for the answer in the dialog.
  return new McmClient(
    clientOptions(RED, { ...query.settings, timeout: Math.min(Number(query.settings?.timeout) || 10, 10) }, { token }, () => undefined),
  );
}

/**
 * Admin endpoints for the editor: test a connection and list live resources for autocomplete.
 * Both take the dialog's values, so they work before the first deploy; both need permission.
 */
function registerAdminRoutes(RED: RED): void {
  const answer = async (req: Request, res: Response, work: (client: McmClient) => Promise<unknown>) => {
    let client: McmClient | undefined;
    try {
      client = timedOutClient(RED, (req.body ?? {}) as EditorQuery);
      res.json({ ok: true, ...((await work(client)) as object) });
    } catch (err) {
      const failure = describeFailure(RED, err);
      res.json({ ok: false, code: failure.error.code, status: failure.statusCode, message: failure.error.message });
    } finally {
      client?.close();
    }
  };
  RED.httpAdmin.post('/mimoe/check', RED.auth.needsPermission('mimoe-config.write'), (req, res) => {
    void answer(req, res, (client) => client.checkConnection());
  });
  RED.httpAdmin.post('/mimoe/resources/:kind', RED.auth.needsPermission('mimoe-config.write'), (req, res) => {
    void answer(req, res, async (client) => {
      if (req.params.kind === 'images') {
        return { items: (await client.listImages()).map((image) => ({ value: image.name, label: image.name, detail: image.id })) };
      }
      return {
        items: (await client.listMims()).map((mim) => ({ value: mim.id, label: mim.id, detail: `${mim.image} ${mim.state}`.trim() })),
      };
    });
  });
}

export = function (RED: RED) {
  function MimoeConfig(this: MimoeConfigNode & { credentials: ConfigCredentials }, config: NodeConfig & ConfigSettings) {
    RED.nodes.createNode(this, config);
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
  RED.nodes.registerType('mimoe-config', MimoeConfig as never, { credentials: { token: { type: 'password' } } });
  registerAdminRoutes(RED);
};
