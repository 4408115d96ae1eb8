/**
 * Who a request comes from: the Bearer token names a client id (`api` for the MCM API key, the
 * id a token stands for otherwise, as a JWT's project would), which `x-client-id` may override;
 * or why the token is refused. The profile turns a refusal into its answer (profile.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { SimulatorOptions } from './options';
import type { Refusal } from './profile';

/** The client id the bearer token implies (x-client-id overrides), or why it is refused. */
export function authorise(
  req: http.IncomingMessage,
  key: string,
  options: Pick<SimulatorOptions, 'tokens' | 'expiredTokens'>,
): { clientId: string } | { refused: Refusal } {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token) return { refused: 'missing' }; // no header, another scheme, or an empty token
  if ((options.expiredTokens ?? []).some((expired) => sameToken(token, expired))) return { refused: 'expired' };
  const tokens = options.tokens ?? {};
  const base = sameToken(token, key) ? 'api' : Object.prototype.hasOwnProperty.call(tokens, token) ? tokens[token] : undefined;
  if (base === undefined) return { refused: 'wrong' };
  const header = req.headers['x-client-id'];
  return { clientId: typeof header === 'string' && header.trim() ? header.trim() : base };
}

/** Compares tokens without leaking how much of them matched. */
export function sameToken(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
