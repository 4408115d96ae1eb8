/**
 * mimoe-fleet: a named set of mimOE runtimes, listed in the dialog and/or discovered through
 * Insight on a seed runtime, with their keys. It owns the one FleetClient that every
 * mimoe-rollout node naming it shares, and closes it on redeploy, as mimoe-config does its client.
 */
import type { Request, Response } from 'express';
import { McmClient } from '../mcm/client';
import { CONNECTION_DEFAULTS, FLEET_DEFAULTS } from '../mcm/defaults';
import { FleetClient, FleetClientOptions, ListedMember, memberKey, parseMemberKeys } from '../mcm/fleet';
import type { Exchange } from '../mcm/transport';
import { isLoopback } from '../mcm/proxy';
import {
  clientOptions,
  ConfigSettings,
  connectionOptions,
  ConnectionSettings,
  expandEnv,
  expandRequiredEnv,
  isHttps,
} from './shared/config-client';
import {
  CONNECTION_DESTINATION,
  deployedNode,
  editorTimeout,
  ENV_REFERENCE,
  failureAnswer,
  jsonOnly,
  PASSWORD_PLACEHOLDER,
  Refusal,
  sameAsDeployed,
} from './shared/editor-api';
import { upgradeConfig, versionSetting } from './shared/config-version';
import { describeFailure } from './shared/errors';
import { MimoeFleetNode, NodeConfig, RED, SHARED_CATALOG } from './shared/runtime';

/** Besides its own settings, a fleet has mimoe-config's TLS, proxy and slow-link settings, for every member. */
interface FleetSettings extends ConnectionSettings {
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

function seconds(value: unknown, fallback: number): number {
  const n = Number(value);
  return value !== '' && value !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/**
 * The FleetClient's options for a fleet node's settings; each member's client is made as
 * mimoe-config makes its own, and discovery and health checks travel as the members' requests do
 * (TLS, proxy). `warn` gets the warning of accept self-signed once, when the fleet may reach an
 * https runtime (a listed one, or any that discovery finds).
 */
function fleetOptions(RED: RED, settings: FleetSettings, credentials: FleetCredentials, warn: (text: string) => void): FleetClientOptions {
  const keys = parseMemberKeys(expandEnv(credentials.keys ?? ''));
  // Once for the whole fleet: a proxy node that is gone makes the fleet unusable from the start.
  const connection = connectionOptions(RED, settings);
  const shared: ConfigSettings = {
    clientId: settings.clientId,
    timeout: settings.timeout,
    concurrency: settings.concurrency,
    resource: settings.resource,
  };
  const members = (settings.members ?? []).map((m) => ({ name: m.name ?? '', url: expandRequiredEnv(RED, m.url ?? '') }));
  if (settings.insecure && (settings.discover || members.some((m) => isHttps(m.url)))) warn(RED._('mimoe-fleet.warn.insecure'));
  return {
    members,
    tls: connection.tls,
    proxy: connection.proxy,
    discovery: settings.discover
      ? {
          seedUrl: expandRequiredEnv(RED, settings.seedUrl ?? '').trim(),
          token: expandEnv(credentials.insightToken ?? '') || undefined,
          includeSeed: settings.includeSeed ?? FLEET_DEFAULTS.includeSeed,
          filter: settings.filter,
          intervalMs: seconds(settings.interval, FLEET_DEFAULTS.interval) * 1000,
        }
      : undefined,
    timeoutMs: (seconds(settings.timeout, CONNECTION_DEFAULTS.timeout) || CONNECTION_DEFAULTS.timeout) * 1000,
    connect: (member) => {
      const own = memberKey(keys, member.name);
      const local = own === undefined && settings.localKeyFile === true && isLoopback(new URL(member.url).hostname);
      const settingsOfMember: ConfigSettings = {
        ...shared,
        url: member.url,
        tokenSource: local ? 'file' : 'credential',
        keyFile: settings.keyFile,
      };
      return new McmClient({ ...clientOptions(RED, settingsOfMember, { token: own ?? credentials.token }, warn), ...connection });
    },
  };
}

/** What the members button posts, as plain values; anything else in the body is ignored. */
function postedSettings(raw: unknown): FleetSettings {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const flag = (value: unknown, fallback: boolean) => (typeof value === 'boolean' ? value : fallback);
  return {
    members: Array.isArray(o.members)
      ? o.members.map((m: unknown) => ({ name: text((m as ListedMember)?.name), url: text((m as ListedMember)?.url) }))
      : [],
    discover: flag(o.discover, FLEET_DEFAULTS.discover),
    seedUrl: text(o.seedUrl),
    includeSeed: flag(o.includeSeed, FLEET_DEFAULTS.includeSeed),
    filter: text(o.filter),
    tls: text(o.tls),
    insecure: flag(o.insecure, CONNECTION_DEFAULTS.insecure),
    proxy: text(o.proxy),
    timeout: typeof o.timeout === 'number' ? o.timeout : text(o.timeout),
  };
}

/**
 * The settings for the dialog's Show members, or a Refusal. As for mimoe-config's routes
 * (shared/editor-api.ts): the stored Insight token goes only to the deployed seed, with the
 * deployed TLS and proxy settings, and `${VAR}` is read only where it stands in the deployed
 * config; members' keys are never used (only the seed is asked).
 */
function editorFleetOptions(RED: RED, body: { id?: unknown; settings?: unknown; insightToken?: unknown }): FleetClientOptions {
  const settings = postedSettings(body.settings);
  const saved = deployedNode<FleetSettings>(RED, body.id, 'mimoe-fleet');
  const toDeployedSeed = (['seedUrl', ...CONNECTION_DESTINATION] as const).every((key) => sameAsDeployed(key, settings, saved));
  const sameMembers = saved !== undefined && JSON.stringify(saved.members ?? []) === JSON.stringify(settings.members);
  const envRefused = (setting: string) =>
    new Refusal(RED._(`${SHARED_CATALOG}:mimoe-config.admin.envNotDeployed`, { setting: RED._(`mimoe-fleet.label.${setting}`) }));
  if (ENV_REFERENCE.test(settings.seedUrl ?? '') && !toDeployedSeed) throw envRefused('seedUrl');
  if (settings.members!.some((m) => ENV_REFERENCE.test(m.url ?? '')) && !sameMembers) throw envRefused('members');
  // Read only now that the id is known to be a mimoe-fleet of the deployed flows.
  const stored = saved ? (RED.nodes.getCredentials(saved.id) as FleetCredentials | undefined)?.insightToken : undefined;
  const typed = typeof body.insightToken === 'string' ? body.insightToken : '';
  let insightToken = typed;
  if (typed === PASSWORD_PLACEHOLDER) {
    if (stored && !toDeployedSeed) throw new Refusal(RED._('mimoe-fleet.admin.storedTokenElsewhere'));
    insightToken = stored ?? '';
  } else if (ENV_REFERENCE.test(typed) && !(typed === stored && toDeployedSeed)) {
    throw envRefused('insightToken');
  }
  return fleetOptions(RED, { ...settings, interval: 0, timeout: editorTimeout(settings.timeout) }, { insightToken }, () => undefined);
}

/** Admin route for the dialog's Show members button: the members its current values give, deployed or not. */
function registerAdminRoutes(RED: RED): void {
  // The shared route helpers name their texts as mimoe-config's catalog does.
  const withConfigTexts = Object.create(RED, {
    _: {
      value: (key: string, params?: Record<string, unknown>) =>
        RED._(key.includes(':') ? key : `${SHARED_CATALOG}:${key}`, params as never),
    },
  }) as RED;
  RED.httpAdmin.post(
    '/mimoe/fleet/members',
    RED.auth.needsPermission('mimoe-fleet.write'),
    jsonOnly(withConfigTexts),
    (req: Request, res: Response) => {
      let fleet: FleetClient | undefined;
      let last: Exchange | undefined;
      void (async () => {
        try {
          fleet = new FleetClient({ ...editorFleetOptions(RED, req.body ?? {}), onExchange: (exchange) => (last = exchange) });
          const members = await fleet.members();
          res.json({ ok: true, members: members.map(({ name, url, source }) => ({ name, url, source })) });
        } catch (err) {
          res.json(failureAnswer(withConfigTexts, err, last));
        } finally {
          fleet?.close();
        }
      })();
    },
  );
}

export = function (RED: RED) {
  function MimoeFleet(this: MimoeFleetNode & { credentials: FleetCredentials }, saved: NodeConfig & FleetSettings) {
    RED.nodes.createNode(this, saved);
    const config = upgradeConfig(RED, this, saved);
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
    ...versionSetting('mimoe-fleet'),
  });
  registerAdminRoutes(RED);
};
