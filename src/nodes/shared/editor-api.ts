/**
 * The admin routes the editor calls: Test connection in the config dialog, and live suggestions
 * (image names, mim ids) in the other dialogs. Both take the dialog's values, so they work before
 * the first deploy, and both give an editor user nothing that deploying a flow would not:
 * - a stored key (credential or key file) goes only to the deployed config's own destination
 *   (URL, TLS, proxy); anywhere else the key must be typed again;
 * - only credentials of deployed mimoe-config nodes are read, and a key file only from the path
 *   deployed in that config;
 * - `${VAR}` is read only where it stands in the deployed config;
 * - only JSON bodies are taken, which a cross-site HTML form cannot send;
 * - an answer that is not MCM's is described by status and type, with at most the first line of
 *   a plain-text error answer, never markup.
 */
import type { NextFunction, Request, Response } from 'express';
import { Exchange, McmClient, McmClientOptions } from '../../mcm/client';
import { McmError } from '../../mcm/errors';
import { clientOptions, ConfigCredentials, ConfigSettings, ConnectionSettings } from './config-client';
import { EDITOR_SETTINGS, PASSWORD_PLACEHOLDER } from './editor-contract';
import { configError, describeFailure, shared } from './errors';
import { NodeConfig, RED } from './runtime';

/** What the editor posts: the dialog's current values, deployed or not, and the key field. */
interface EditorQuery {
  /** The config node's id: its deployed settings and stored key are the reference. */
  id?: unknown;
  settings?: unknown;
  /** A typed key, or the password placeholder for "the stored one". */
  token?: unknown;
}

/** Seconds: a person is waiting for the answer in the dialog. */
const EDITOR_TIMEOUT = 10;

/** The seconds an editor request waits: the dialog's posted timeout, at most EDITOR_TIMEOUT; that when none is posted. */
export function editorTimeout(posted: unknown): number {
  const seconds = typeof posted === 'number' || typeof posted === 'string' ? Number(posted) : NaN;
  return seconds > 0 ? Math.min(seconds, EDITOR_TIMEOUT) : EDITOR_TIMEOUT;
}
/** The settings the editor may post (each a config setting: the compiler checks it). */
const SETTINGS: ReadonlyArray<keyof ConfigSettings> = EDITOR_SETTINGS;
/** Besides the URL, the settings that decide where a key goes (for every config node that has them). */
export const CONNECTION_DESTINATION: Array<keyof ConnectionSettings> = ['tls', 'insecure', 'proxy'];
/** The settings that decide where a key goes. The client id, timeouts and resource may vary freely. */
const DESTINATION: Array<keyof ConfigSettings> = ['url', ...CONNECTION_DESTINATION];
/** An environment reference in any of Node-RED's spellings; a posted one is never read. */
export const ENV_REFERENCE = /\$\{[^}]*\}/;

export { PASSWORD_PLACEHOLDER };

/** A request the route answers itself, without contacting anything. */
export class Refusal extends Error {}

/**
 * Most suggestions given to the editor, in the runtime's order: the editor draws every entry, and
 * 20,000 took chromium 10 s to show, and as long again for each key typed to narrow them.
 */
const MAX_SUGGESTIONS = 1000;

const LISTS: Record<string, (client: McmClient) => Promise<Array<{ value: string; label: string; detail: string }>>> = {
  images: async (client) => (await client.listImages()).map((image) => ({ value: image.name, label: image.name, detail: image.id })),
  mims: async (client) =>
    (await client.listMims()).map((mim) => ({ value: mim.id, label: mim.id, detail: `${mim.image} ${mim.state}`.trim() })),
};

/**
 * The deployed flow's node of this id when it is of `type` (a mimoe-config, a mimoe-fleet): only a
 * deployed config node has stored secrets (a key, an Insight token) to lend to an editor request.
 */
export function deployedNode<S>(RED: RED, id: unknown, type: string): (NodeConfig & S) | undefined {
  if (typeof id !== 'string' || !id) return undefined;
  let found: NodeConfig | undefined;
  RED.nodes.eachNode((node) => {
    if (node.id === id) found = node as NodeConfig;
  });
  return found?.type === type ? (found as NodeConfig & S) : undefined;
}

/** The posted settings: known keys with plain values only. */
function postedSettings(raw: unknown): ConfigSettings {
  const settings: Record<string, unknown> = {};
  if (!raw || typeof raw !== 'object') return settings;
  for (const key of SETTINGS) {
    const value = (raw as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') settings[key] = value;
  }
  return settings as ConfigSettings;
}

/** A setting as compared with the deployed one: the dialog trims text and may omit a false box. */
function comparable(key: string, value: unknown): string {
  return key === 'insecure' ? String(value === true || value === 'true') : String(value ?? '').trim();
}

/** Whether a posted setting is the deployed one (never, when nothing is deployed). */
export function sameAsDeployed<S extends object>(key: keyof S & string, posted: S, saved: S | undefined): boolean {
  return saved !== undefined && comparable(key, posted[key]) === comparable(key, saved[key]);
}

/**
 * The client options for an editor request, or a Refusal. Values that stand in the deployed config
 * are used as deployed; other values are taken literally. What is stored or read from the
 * environment (the key, a key file, a `${VAR}`) travels only to the deployed destination.
 */
function editorClientOptions(RED: RED, query: EditorQuery): McmClientOptions {
  const settings = postedSettings(query.settings);
  const saved = deployedNode<ConfigSettings>(RED, query.id, 'mimoe-config');
  const asDeployed = (key: keyof ConfigSettings) => sameAsDeployed(key, settings, saved);
  const toDeployedDestination = DESTINATION.every(asDeployed);
  const envRefused = (key: string) =>
    new Refusal(RED._('mimoe-config.admin.envNotDeployed', { setting: RED._(`mimoe-config.label.${key}`) }));
  for (const key of SETTINGS) {
    const value = settings[key];
    if (typeof value === 'string' && ENV_REFERENCE.test(value) && !(asDeployed(key) && toDeployedDestination)) throw envRefused(key);
  }
  const credentials: ConfigCredentials = {};
  if (settings.tokenSource === 'file') {
    if (!saved || saved.tokenSource !== 'file' || !asDeployed('keyFile')) throw new Refusal(RED._('mimoe-config.admin.keyFileNotDeployed'));
    if (!toDeployedDestination) throw new Refusal(RED._('mimoe-config.admin.storedKeyElsewhere'));
  } else {
    // Read only now that the id is known to be a mimoe-config of the deployed flows.
    const stored = saved ? (RED.nodes.getCredentials(saved.id) as ConfigCredentials | undefined)?.token : undefined;
    const token = typeof query.token === 'string' ? query.token : '';
    if (token === PASSWORD_PLACEHOLDER) {
      if (stored && !toDeployedDestination) throw new Refusal(RED._('mimoe-config.admin.storedKeyElsewhere'));
      credentials.token = stored;
    } else {
      if (ENV_REFERENCE.test(token) && !(token === stored && toDeployedDestination)) throw envRefused('token');
      credentials.token = token;
    }
  }
  return clientOptions(RED, { ...settings, timeout: editorTimeout(settings.timeout) }, credentials, () => undefined);
}

/** `text/html; charset=utf-8` -> `text/html`; anything else a server may put there is not shown. */
function mediaType(header: string | undefined): string | undefined {
  return /^\s*([\w.+-]{1,40}\/[\w.+-]{1,60})/.exec(header ?? '')?.[1].toLowerCase();
}

/** Longest first line of a server's error text that is shown. */
const FIRST_LINE_MAX = 120;

/**
 * The first line of a server's error text, as the client kept it (redacted), cut at
 * FIRST_LINE_MAX, or undefined when it holds markup: whatever answers at the posted URL, no more
 * of its content comes back to the editor.
 */
function firstLine(message: string | undefined): string | undefined {
  const line = (message ?? '').split(/\r?\n/)[0].trim();
  if (!line || /<[a-z!?/]/i.test(line)) return undefined;
  return line.length > FIRST_LINE_MAX ? `${line.slice(0, FIRST_LINE_MAX)}…` : line;
}

/**
 * The first line of a plain-text error answer: never for another type, and never from a 2xx
 * answer (the client keeps no text of those here).
 */
function plainFirstLine(err: McmError, type: string | undefined): string | undefined {
  return type === 'text/plain' && err.code === 'http' ? firstLine(err.serverMessage) : undefined;
}

/** Network failures by system code: the editor names the cause in words (see transport's `detail`: "CODE host:port"). */
const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EHOSTUNREACH: 'noRoute',
  ENETUNREACH: 'noRoute',
  EADDRNOTAVAIL: 'noRoute',
  EPROTO: 'notTls',
  ERR_SSL_WRONG_VERSION_NUMBER: 'notTls',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'selfSigned',
  SELF_SIGNED_CERT_IN_CHAIN: 'selfSigned',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'wrongName',
  HOSTNAME_MISMATCH: 'wrongName',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'expired',
};

/**
 * The editor's text for a client failure, in the dialog user's words: no operation name. An
 * answer that is not MCM's (HTML, text, unknown JSON, a 2xx the client could not use) is
 * described by status and type, with only the first line of a plain-text error answer; a JSON
 * error in a recognised shape shows the first line of its message. An editor user may point the
 * route at any internal service, and its content must not come back.
 */
function editorMessage(RED: RED, err: McmError, exchange: Exchange | undefined): string {
  const text = (key: string, params: Record<string, unknown> = {}) => RED._(`mimoe-config.admin.${key}`, params as Record<string, string>);
  // Insight's token and a mim's health check are not the MCM key.
  const carriesKey = err.operation !== 'discoverMembers' && err.operation !== 'checkHealth';
  if (err.code === 'http' || err.code === 'bad-response') {
    const status = err.statusCode ?? (exchange && exchange.status > 0 ? exchange.status : undefined);
    if (status === undefined) return text('failure.bad-response');
    const fromMcm = err.code === 'http' && err.structured === true;
    const type = mediaType(err.contentType ?? exchange?.responseHeaders['content-type']);
    const line = plainFirstLine(err, type);
    const answer = fromMcm
      ? `HTTP ${status} ${firstLine(err.serverMessage) ?? ''}`.trimEnd()
      : `HTTP ${status}, ${type ?? text('noType')}${line ? `: ${line}` : ''}`;
    if (status === 401 || status === 403) return text(carriesKey ? 'keyRefused' : 'tokenRefused', { answer });
    return text(fromMcm ? 'failure.http' : 'foreign', { answer });
  }
  if (err.code === 'invalid-input') return shared(RED, `invalid.${err.rule}`, err.params);
  const [, systemCode = '', where = ''] = /^([A-Z][A-Z0-9_]+) (.+)$/.exec(err.detail ?? '') ?? [];
  const cause = (err.code === 'unreachable' || err.code === 'tls') && NETWORK_CAUSES[systemCode];
  if (cause) return text(`cause.${cause}`, { where, code: systemCode });
  return text(`failure.${err.code}`, { ...err.params, detail: err.detail ?? '', message: err.serverMessage ?? '' });
}

/** The editor's answer for a failure, with the code and HTTP status the nodes would report. */
export function failureAnswer(RED: RED, err: unknown, exchange: Exchange | undefined) {
  if (err instanceof Refusal) return { ok: false, code: 'MCM_EDITOR_REFUSED', message: err.message };
  const failure = describeFailure(RED, err);
  const message = err instanceof McmError ? editorMessage(RED, err, exchange) : failure.error.message;
  return { ok: false, code: failure.error.code, status: failure.statusCode, message };
}

/** A cross-site HTML form can send only urlencoded, multipart or text/plain bodies: none is taken. */
export function jsonOnly(RED: RED) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.is('application/json')) next();
    else res.status(415).json({ ok: false, message: RED._('mimoe-config.admin.jsonOnly') });
  };
}

export function registerEditorRoutes(RED: RED): void {
  const permission = RED.auth.needsPermission('mimoe-config.write');
  const answer = async (req: Request, res: Response, work: (client: McmClient) => Promise<object>) => {
    let client: McmClient | undefined;
    let last: Exchange | undefined;
    try {
      try {
        const options = editorClientOptions(RED, (req.body ?? {}) as EditorQuery);
        client = new McmClient({ ...options, onExchange: (exchange) => (last = exchange) });
      } catch (err) {
        if (err instanceof Refusal) throw err;
        // Settings that make no client (a URL with a password in it, a key with a line break, a proxy node gone) are config problems.
        const refused = configError(RED, err);
        res.json({ ok: false, code: refused.code, message: refused.message });
        return;
      }
      res.json({ ok: true, ...(await work(client)) });
    } catch (err) {
      res.json(failureAnswer(RED, err, last));
    } finally {
      client?.close();
    }
  };
  RED.httpAdmin.post('/mimoe/check', permission, jsonOnly(RED), (req, res) => {
    void answer(req, res, (client) => client.checkConnection());
  });
  RED.httpAdmin.post('/mimoe/resources/:kind', permission, jsonOnly(RED), (req, res) => {
    const list = Object.hasOwn(LISTS, req.params.kind) ? LISTS[req.params.kind] : undefined;
    if (!list) {
      res.status(404).json({ ok: false, message: RED._('mimoe-config.admin.unknownKind') });
      return;
    }
    void answer(req, res, async (client) => ({ items: (await list(client)).slice(0, MAX_SUGGESTIONS) }));
  });
}
