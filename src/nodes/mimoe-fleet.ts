/**
 * mimoe-fleet: a named set of mimOE runtimes, listed in the dialog and/or discovered through
 * Insight on a seed runtime, with their keys. It owns the one FleetClient that every
 * mimoe-rollout node naming it shares, and closes it on redeploy, as mimoe-config does its client.
 */
import type { Request, Response } from 'express';
import { FleetClient, FleetClientOptions, ListedMember, parseMemberKeys } from '../mcm/fleet';
import { ConfigSettings, createClient, expandEnv } from './shared/config-client';
import { describeFailure } from './shared/errors';
import { MimoeFleetNode, NodeConfig, RED } from './shared/runtime';

interface FleetSettings {
  members?: Array<Partial<ListedMember>>;
  discover?: boolean;
  seedUrl?: string;
  /** The seed is a member too (Insight lists the others only). */
  includeSeed?: boolean;
  filter?: string;
  /** Seconds between discoveries; 0: on the first rollout and on msg.refresh only. */
  interval?: number | string;
  /** Members on this host (a loopback URL) read their key from the runtime's key file. */
  localKeyFile?: boolean;
  keyFile?: string;
  clientId?: string;
  timeout?: number | string;
  concurrency?: number | string;
  resource?: string;
}

interface FleetCredentials {
  /** The key of every member without its own. */
  token?: string;
  /** Per-member keys: name=key entries or a JSON object. */
  keys?: string;
  insightToken?: string;
}

/** Node-RED sends this in place of a stored password the editor never sees. */
const PASSWORD_PLACEHOLDER = '__PWRD__';
const LOOPBACK_HOST = /^(localhost|127(\.\d+){3}|\[::1\])$/i;

function seconds(value: unknown, fallback: number): number {
  const n = Number(value);
  return value !== '' && value !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The FleetClient's options for a fleet node's settings; each member's client is built as mimoe-config builds its own. */
function fleetOptions(RED: RED, settings: FleetSettings, credentials: FleetCredentials, warn: (text: string) => void): FleetClientOptions {
  const keys = parseMemberKeys(expandEnv(credentials.keys ?? ''));
  const shared: ConfigSettings = {
    clientId: settings.clientId,
    timeout: settings.timeout,
    concurrency: settings.concurrency,
    resource: settings.resource,
  };
  const interval = seconds(settings.interval, 0);
  return {
    members: (settings.members ?? []).map((m) => ({ name: m.name ?? '', url: expandEnv(m.url ?? '') })),
    discovery: settings.discover
      ? {
          seedUrl: expandEnv(settings.seedUrl ?? '').trim(),
          token: expandEnv(credentials.insightToken ?? '') || undefined,
          includeSeed: settings.includeSeed !== false,
          filter: settings.filter,
          intervalMs: interval * 1000,
        }
      : undefined,
    timeoutMs: (seconds(settings.timeout, 30) || 30) * 1000,
    connect: (member) => {
      const own = keys[member.name];
      const local = own === undefined && settings.localKeyFile === true && LOOPBACK_HOST.test(new URL(member.url).hostname);
      return createClient(
        RED,
        { ...shared, url: member.url, tokenSource: local ? 'file' : 'credential', keyFile: settings.keyFile },
        { token: own ?? credentials.token },
        warn,
      );
    },
  };
}

/**
 * Admin endpoint for the dialog's Show members button: the members its current values give,
 * deployed or not (a stored Insight token is used when the dialog shows the placeholder).
 */
function registerAdminRoutes(RED: RED): void {
  RED.httpAdmin.post('/mimoe/fleet/members', RED.auth.needsPermission('mimoe-fleet.write'), (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { id?: string; settings?: FleetSettings; insightToken?: string };
    const saved = body.id ? (RED.nodes.getCredentials(body.id) as FleetCredentials | undefined) : undefined;
    const insightToken = !body.insightToken || body.insightToken === PASSWORD_PLACEHOLDER ? saved?.insightToken : body.insightToken;
    let fleet: FleetClient | undefined;
    void (async () => {
      try {
        // A short timeout: a person is waiting for the answer in the dialog.
        const settings = { ...body.settings, interval: 0, timeout: Math.min(seconds(body.settings?.timeout, 10) || 10, 10) };
        fleet = new FleetClient(fleetOptions(RED, settings, { insightToken }, () => undefined));
        const members = await fleet.members();
        res.json({ ok: true, members: members.map(({ name, url, source }) => ({ name, url, source })) });
      } catch (err) {
        const failure = describeFailure(RED, err);
        res.json({ ok: false, code: failure.error.code, status: failure.statusCode, message: failure.error.message });
      } finally {
        fleet?.close();
      }
    })();
  });
}

export = function (RED: RED) {
  function MimoeFleet(this: MimoeFleetNode & { credentials: FleetCredentials }, config: NodeConfig & FleetSettings) {
    RED.nodes.createNode(this, config);
    let lastWarning = '';
    const warnOnce = (text: string) => {
      // Every member's client and every periodic discovery would say the same again.
      if (text !== lastWarning) this.warn(text);
      lastWarning = text;
    };
    try {
      this.fleet = new FleetClient({
        ...fleetOptions(RED, config, this.credentials ?? {}, warnOnce),
        onDiscoveryError: (err) => warnOnce(RED._('mimoe-fleet.warn.discovery', { reason: describeFailure(RED, err).error.message })),
      });
    } catch (err) {
      this.problem = describeFailure(RED, err).error.message;
      this.error(RED._('mimoe-fleet.errors.unusable', { reason: this.problem }));
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      this.fleet?.close();
      done();
    });
  }
  RED.nodes.registerType('mimoe-fleet', MimoeFleet as never, {
    credentials: { token: { type: 'password' }, keys: { type: 'password' }, insightToken: { type: 'password' } },
  });
  registerAdminRoutes(RED);
};
