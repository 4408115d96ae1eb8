/** Turns a config node's settings (deployed, or checked by the editor's admin routes) into McmClient options. */
import { McmClientOptions, ProxyOptions, TlsOptions } from '../../mcm/client';
import { CONNECTION_DEFAULTS } from '../../mcm/defaults';
import { DEFAULT_KEY_FILE, readApiKey } from '../../mcm/key-file';
import { shared } from './errors';
import { RED, SHARED_CATALOG } from './runtime';

/** How a config node's requests travel, besides the URL: the settings mimoe-config and mimoe-fleet share. */
export interface ConnectionSettings {
  /** Id of a core `tls-config` node: CA, client certificate and key for https runtimes. */
  tls?: string;
  /** Accept self-signed certificates (verification off) for https runtimes. */
  insecure?: boolean;
  /** Id of a core `http proxy` config node; blank: the proxy settings of Node-RED's environment. */
  proxy?: string;
  /** Seconds to wait for the answer after an upload's last byte. */
  answerTimeout?: number | string;
  /** While an upload is sent, it fails when fewer than lowSpeedBytes move in lowSpeedWindow seconds. */
  lowSpeedBytes?: number | string;
  lowSpeedWindow?: number | string;
}

export interface ConfigSettings extends ConnectionSettings {
  url?: string;
  clientId?: string;
  /** Seconds. */
  timeout?: number | string;
  concurrency?: number | string;
  resource?: string;
  tokenSource?: 'credential' | 'file';
  keyFile?: string;
}

/** What ConnectionSettings become: the same for every runtime of a config node. */
export type ConnectionOptions = Pick<McmClientOptions, 'tls' | 'proxy' | 'answerTimeoutMs' | 'lowSpeedBytes' | 'lowSpeedWindowMs'>;

export interface ConfigCredentials {
  token?: string;
}

/** What the core `http proxy` config node keeps (node-red/nodes/core/network/06-httpproxy.js). */
interface HttpProxyNode {
  type: string;
  url?: string;
  noproxy?: string[];
  credentials?: { username?: string; password?: string };
}

/**
 * `${NAME}` reads the environment variable NAME. Node-RED does this for deployed properties that
 * are one reference as a whole; this also reads references inside a value (`${HOST}/mcm/v1`) and in
 * the token. The editor's admin routes pass only values that stand in the deployed config here.
 */
export function expandEnv(value: string): string {
  return value.replace(ENV_REFERENCE, (_whole, name: string) => process.env[name] ?? '');
}

const ENV_REFERENCE = /\$\{(\w+)\}/g;

/**
 * expandEnv for a value that cannot be blank (a URL, a key): a variable that is not set is a
 * config error that names it, instead of a blank value that fails later with a puzzling text.
 */
export function expandRequiredEnv(RED: RED, value: string): string {
  for (const [, name] of value.matchAll(ENV_REFERENCE)) {
    if (process.env[name] === undefined) throw new Error(RED._(`${SHARED_CATALOG}:mimoe-config.errors.env-unset`, { name }));
  }
  return expandEnv(value);
}

function positive(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The proxy a core `http proxy` config node describes; throws when the id names no such node. */
function proxyOptions(RED: RED, id: string): ProxyOptions {
  const node = RED.nodes.getNode(id) as unknown as HttpProxyNode | null;
  const url = node?.type === 'http proxy' ? node.url?.trim() : undefined;
  if (!node || !url) throw new Error(RED._(`${SHARED_CATALOG}:mimoe-config.errors.proxy`));
  return {
    url,
    noProxy: (node.noproxy ?? []).map((host) => String(host).trim()).filter(Boolean),
    username: node.credentials?.username || undefined,
    password: node.credentials?.password || undefined,
  };
}

/**
 * The TLS node's CA and certificates, the proxy node and the slow-link limits as client options;
 * throws when the proxy node is gone. TLS applies to https runtimes only (the transport ignores it
 * for http); accept self-signed turns verification off, and the caller logs the warning.
 */
export function connectionOptions(RED: RED, settings: ConnectionSettings): ConnectionOptions {
  const tls: TlsOptions = { rejectUnauthorized: true };
  const tlsNode = settings.tls ? (RED.nodes.getNode(settings.tls) as unknown as { addTLSOptions?: (o: TlsOptions) => void } | null) : null;
  tlsNode?.addTLSOptions?.(tls);
  if (settings.insecure) tls.rejectUnauthorized = false;
  const options: ConnectionOptions = {
    tls,
    answerTimeoutMs: positive(settings.answerTimeout, CONNECTION_DEFAULTS.answerTimeout) * 1000,
    // Up, not down: a limit of 0 bytes would never fail a stalled upload.
    lowSpeedBytes: Math.ceil(positive(settings.lowSpeedBytes, CONNECTION_DEFAULTS.lowSpeedBytes)),
    lowSpeedWindowMs: positive(settings.lowSpeedWindow, CONNECTION_DEFAULTS.lowSpeedWindow) * 1000,
  };
  // No proxy node: undefined leaves the client to the environment (http_proxy, https_proxy, no_proxy).
  if (settings.proxy) options.proxy = proxyOptions(RED, settings.proxy);
  return options;
}

/** True for an https URL: the TLS settings apply to it. */
export const isHttps = (url: string): boolean => /^https:/i.test(url.trim());

/**
 * The client options for a config node's settings; throws an Error a person can act on. `warn`
 * gets the warning of an https runtime reached without certificate checks.
 */
export function clientOptions(
  RED: RED,
  settings: ConfigSettings,
  credentials: ConfigCredentials,
  warn: (text: string) => void,
): McmClientOptions {
  const options: McmClientOptions = {
    url: expandRequiredEnv(RED, settings.url ?? '').trim(),
    token: '',
    clientId: settings.clientId?.trim() || undefined,
    timeoutMs: positive(settings.timeout, CONNECTION_DEFAULTS.timeout) * 1000,
    maxConcurrent: Math.floor(positive(settings.concurrency, CONNECTION_DEFAULTS.concurrency)),
    mimsResource: settings.resource === 'containers' ? 'containers' : 'mims',
    ...connectionOptions(RED, settings),
  };
  if (settings.tokenSource === 'file') {
    const keyFile = expandEnv(settings.keyFile ?? '').trim() || DEFAULT_KEY_FILE;
    // Read on first use, not now: Node-RED may start before mimOE has written the file.
    let key: string | undefined;
    const readKey = () => {
      try {
        return readApiKey(keyFile);
      } catch (err) {
        throw new Error(`${(err as Error).message}${shared(RED, 'errors.key-file-hint')}`, { cause: err });
      }
    };
    options.token = () => (key ??= readKey());
    // The runtime may regenerate its key: after a 401 or 403, read the file again and retry once.
    options.reloadToken = () => {
      const fresh = readKey();
      const changed = fresh !== key;
      key = fresh;
      return changed;
    };
  } else {
    options.token = expandRequiredEnv(RED, credentials.token ?? '');
  }
  if (settings.insecure && isHttps(options.url)) warn(RED._(`${SHARED_CATALOG}:mimoe-config.warn.insecure`, { url: options.url }));
  return options;
}
