/**
 * Tests talk only to loopback. Some use made-up host names (`device-01.fleet.test`) that a recording
 * proxy maps to 127.0.0.1; if the code under test ever went direct instead, Node would ask the
 * system resolver, and the query would leave the machine. Loaded before every test run (and, via
 * NODE_OPTIONS, in every Node process a test starts), this makes any lookup of a name that is not
 * loopback fail at once with ENOTFOUND, as an unknown name would, without asking anyone.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';

const LOOPBACK_NAME = /^(localhost|[^.]+\.localhost|localhost\.localdomain)\.?$/i;

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (LOOPBACK_NAME.test(host)) return true;
  if (isIP(host) === 4) return host.startsWith('127.') || host === '0.0.0.0';
  if (isIP(host) === 6) return host === '::1' || host === '::' || /^::ffff:127\./i.test(host);
  return false;
}

function refusal(hostname: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname} (tests resolve loopback names only)`);
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  return Object.assign(err, { hostname });
}

const lookup = dns.lookup.bind(dns) as (...args: unknown[]) => void;
dns.lookup = ((hostname: string, ...rest: unknown[]) => {
  if (isLoopback(String(hostname))) return lookup(hostname, ...rest);
  const callback = rest[rest.length - 1] as (err: NodeJS.ErrnoException) => void;
  process.nextTick(() => callback(refusal(String(hostname))));
}) as typeof dns.lookup;

const promisedLookup = dns.promises.lookup.bind(dns.promises);
dns.promises.lookup = ((hostname: string, options?: unknown) =>
  isLoopback(String(hostname))
    ? promisedLookup(hostname, options as dns.LookupOptions)
    : Promise.reject(refusal(String(hostname)))) as typeof dns.promises.lookup;

// Node processes the tests start (Node-RED, the CLIs) load this file too.
const preload = `--require "${__filename}"`;
if (!(process.env.NODE_OPTIONS ?? '').includes(preload)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${preload}`.trim();
}
