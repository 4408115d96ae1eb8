/**
 * Which proxy, if any, carries the requests to a runtime: the same decision Node-RED's core
 * http request node makes (the `*_proxy` and `no_proxy` environment variables, or a core
 * `http proxy` config node), except that loopback addresses are always reached directly.
 * Deciding needs no name lookup: only the URL's text is compared.
 */

/** An HTTP(S) proxy, as Node-RED's core `http proxy` config node describes one. */
export interface ProxyOptions {
  /** http://host:port of the proxy. */
  url: string;
  /** Hosts reached directly, no_proxy style (`.example.com`, `host:port`, `*`). */
  noProxy?: string[];
  username?: string;
  password?: string;
}

/** The proxy to use for one runtime URL. */
export interface ProxyRoute {
  /** The proxy itself (http: or https:), without credentials. */
  url: URL;
  /** `Basic ...` for Proxy-Authorization, when credentials were given. */
  authorization?: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * The proxy for `target`, or undefined to go direct. `option` undefined reads the environment,
 * false never proxies; an explicit ProxyOptions replaces the environment entirely.
 */
export function proxyFor(
  target: URL,
  option: ProxyOptions | false | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ProxyRoute | undefined {
  if (option === false || isLoopback(target.hostname)) return undefined;
  const scheme = target.protocol.replace(':', '');
  const proxy = option ? option.url : fromEnv(env, `npm_config_${scheme}_proxy`, `${scheme}_proxy`, 'npm_config_proxy', 'all_proxy');
  const noProxy = option ? (option.noProxy ?? []).join(',') : fromEnv(env, 'npm_config_no_proxy', 'no_proxy');
  if (!proxy?.trim() || bypasses(target, noProxy)) return undefined;
  // A proxy without a scheme speaks the target's, as Node-RED assumes.
  let url: URL;
  try {
    url = new URL(proxy.includes('://') ? proxy.trim() : `${scheme}://${proxy.trim()}`);
  } catch {
    throw new TypeError(`the proxy URL "${hostOnly(proxy)}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`the proxy URL must start with http:// or https:// (got ${url.protocol}//${url.host})`);
  }
  const username = option?.username || decodeURIComponent(url.username);
  const password = option?.password || decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const authorization = username || password ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined;
  return { url, authorization };
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1 (also IPv4-mapped): never through a proxy. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  if (/^127\.\d+\.\d+\.\d+$/.test(host)) return true;
  // The URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
  return /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(host);
}

/**
 * True when a no_proxy list says to go direct, matched as Node-RED's core nodes match it:
 * `*` alone matches everything; entries are split on commas and whitespace; `host:port`
 * matches that port only (the scheme's default port when the URL has none); a leading `.`
 * or `*` matches any host ending with the rest; anything else must equal the host name.
 */
export function bypasses(target: URL, noProxy: string): boolean {
  const list = noProxy.toLowerCase().trim();
  if (!list) return false;
  if (list === '*') return true;
  const hostname = target.hostname.toLowerCase();
  const port = Number(target.port) || DEFAULT_PORTS[target.protocol] || 0;
  return list
    .split(/[,\s]/)
    .filter(Boolean)
    .some((entry) => {
      const withPort = /^(.+):(\d+)$/.exec(entry);
      const host = withPort ? withPort[1] : entry;
      if (withPort && Number(withPort[2]) !== port) return false;
      if (host.startsWith('*')) return hostname.endsWith(host.slice(1));
      if (host.startsWith('.')) return hostname.endsWith(host);
      return hostname === host;
    });
}

/** The first variable set, each name tried in lower then upper case, in Node-RED's order. */
function fromEnv(env: NodeJS.ProcessEnv, ...names: string[]): string {
  for (const name of names) {
    const value = env[name] || env[name.toUpperCase()];
    if (value) return value;
  }
  return '';
}

/** A proxy URL for an error text, without any credentials in it. */
function hostOnly(text: string): string {
  return text.replace(/\/\/[^@/]*@/, '//');
}
