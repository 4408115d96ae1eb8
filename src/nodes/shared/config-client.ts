/** Turns a config node's settings (saved or, for the editor's admin calls, posted) into an McmClient. */
import { McmClient, McmClientOptions, TlsOptions } from '../../mcm/client';
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
}

export interface ConfigCredentials {
  token?: string;
}

/**
 * `${NAME}` reads the environment variable NAME. Node-RED does this for deployed properties; the
 * editor's admin calls post the raw dialog values, and tokens are credentials, so do it here too.
 */
export function expandEnv(value: string): string {
  return value.replace(/\$\{(\w+)\}/g, (_whole, name: string) => process.env[name] ?? '');
}

function positive(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** Builds the client for a config node's settings; throws an Error a person can act on. */
export function createClient(RED: RED, settings: ConfigSettings, credentials: ConfigCredentials, warn: (text: string) => void): McmClient {
  const options: McmClientOptions = {
    url: expandEnv(settings.url ?? '').trim(),
    token: '',
    clientId: settings.clientId?.trim() || undefined,
    timeoutMs: positive(settings.timeout, 30) * 1000,
    maxConcurrent: Math.floor(positive(settings.concurrency, 4)),
    mimsResource: settings.resource === 'containers' ? 'containers' : 'mims',
  };
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
  return new McmClient(options);
}
