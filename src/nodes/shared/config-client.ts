/** Turns a config node's settings (deployed, or checked by the editor's admin routes) into McmClient options. */
import { McmClientOptions, ProxyOptions, TlsOptions } from '../../mcm/client';
import { DEFAULT_KEY_FILE, readApiKey } from '../../mcm/key-file';
import { RED } from './runtime';

export interface ConfigSettings {
  url?: string;
  clientId?: string;
  /** Seconds. */
  timeout?: number | string;
  concurrency?: number | string;
  resource?: string;
  tls?: string;
  insecure?: boolean;
  tokenSource?: 'credential' | 'file';
  keyFile?: string;
  /** Seconds to wait for the answer after an upload's last byte. */
  answerTimeout?: number | string;
  /** While an upload is sent, it fails when fewer than lowSpeedBytes move in lowSpeedWindow seconds. */
  lowSpeedBytes?: number | string;
  lowSpeedWindow?: number | string;
  /** Id of a core `http proxy` config node; blank: the proxy settings of Node-RED's environment. */
  proxy?: string;
}

export interface ConfigCredentials {
  token?: string;
}

/** The settings' defaults; the dialog shows the same (nodes/mimoe-config.html). */
export const CONFIG_DEFAULTS = { timeout: 30, concurrency: 4, answerTimeout: 300, lowSpeedBytes: 1024, lowSpeedWindow: 60 } as const;

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
  return value.replace(/\$\{(\w+)\}/g, (_whole, name: string) => process.env[name] ?? '');
}

function positive(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The proxy a core `http proxy` config node describes; throws when the id names no such node. */
function proxyOptions(RED: RED, id: string): ProxyOptions {
  const node = RED.nodes.getNode(id) as unknown as HttpProxyNode | null;
  const url = node?.type === 'http proxy' ? node.url?.trim() : undefined;
  if (!node || !url) throw new Error(RED._('mimoe-config.errors.proxy'));
  return {
    url,
    noProxy: (node.noproxy ?? []).map((host) => String(host).trim()).filter(Boolean),
    username: node.credentials?.username || undefined,
    password: node.credentials?.password || undefined,
  };
}

/** The client options for a config node's settings; throws an Error a person can act on. */
export function clientOptions(
  RED: RED,
  settings: ConfigSettings,
  credentials: ConfigCredentials,
  warn: (text: string) => void,
): McmClientOptions {
  const options: McmClientOptions = {
    url: expandEnv(settings.url ?? '').trim(),
    token: '',
    clientId: settings.clientId?.trim() || undefined,
    timeoutMs: positive(settings.timeout, CONFIG_DEFAULTS.timeout) * 1000,
    maxConcurrent: Math.floor(positive(settings.concurrency, CONFIG_DEFAULTS.concurrency)),
    mimsResource: settings.resource === 'containers' ? 'containers' : 'mims',
    answerTimeoutMs: positive(settings.answerTimeout, CONFIG_DEFAULTS.answerTimeout) * 1000,
    // Up, not down: a limit of 0 bytes would never fail a stalled upload.
    lowSpeedBytes: Math.ceil(positive(settings.lowSpeedBytes, CONFIG_DEFAULTS.lowSpeedBytes)),
    lowSpeedWindowMs: positive(settings.lowSpeedWindow, CONFIG_DEFAULTS.lowSpeedWindow) * 1000,
  };
  // No proxy node: undefined leaves the client to the environment (http_proxy, https_proxy, no_proxy).
  if (settings.proxy) options.proxy = proxyOptions(RED, settings.proxy);
  if (settings.tokenSource === 'file') {
    const keyFile = expandEnv(settings.keyFile ?? '').trim() || DEFAULT_KEY_FILE;
    // Read on first use, not now: Node-RED may start before mimOE has written the file.
    let key: string | undefined;
    options.token = () => (key ??= readApiKey(keyFile));
    // The runtime may regenerate its key: after a 403, read the file again and retry once.
    options.reloadToken = () => {
      const fresh = readApiKey(keyFile);
      const changed = fresh !== key;
      key = fresh;
      return changed;
    };
  } else {
    options.token = expandEnv(credentials.token ?? '');
  }
  if (options.url.toLowerCase().startsWith('https')) {
    const tls: TlsOptions = { rejectUnauthorized: true };
    const tlsNode = settings.tls
      ? (RED.nodes.getNode(settings.tls) as unknown as { addTLSOptions?: (o: TlsOptions) => void } | null)
      : null;
    tlsNode?.addTLSOptions?.(tls);
    if (settings.insecure) {
      tls.rejectUnauthorized = false;
      warn(RED._('mimoe-config.warn.insecure', { url: options.url }));
    }
    options.tls = tls;
  }
  return options;
}
