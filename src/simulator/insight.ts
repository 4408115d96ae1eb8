/**
 * The Insight API (mimOE's discovery mim under /mimik-mesh/insight/v1) as the simulator answers
 * it: its own Bearer token (mimOE's default is `1234`), `GET /nodes?type=...` and `GET /info`.
 * A lone simulator knows no other node; a fleet (fleet.ts) gives each device the others.
 */
import { platform } from 'node:os';
import { SimError } from './state';

export const DEFAULT_INSIGHT_TOKEN = '1234';
export const INSIGHT_PREFIX = ['mimik-mesh', 'insight', 'v1'];

export const INSIGHT_TYPES = ['linkLocal', 'account', 'proximity'] as const;
export type SimInsightType = (typeof INSIGHT_TYPES)[number];

export type InsightRoute = 'insightNodes' | 'insightInfo';

/** The paths under the prefix, in the shape the server's router matches. */
export const INSIGHT_ROUTES: Array<{ method: string; path: string[]; route: InsightRoute }> = [
  { method: 'GET', path: ['nodes'], route: 'insightNodes' },
  { method: 'GET', path: ['info'], route: 'insightInfo' },
];

export interface SimInsightAddress {
  type: string;
  url: { href: string };
}

/** One node as Insight lists it. */
export interface SimInsightNode {
  id: string;
  accountId: string;
  name: string;
  os: string;
  addresses: SimInsightAddress[];
  services: unknown[];
}

/** How a simulator describes itself to Insight; what is not given takes a default. */
export interface SimInsightIdentity {
  id?: string;
  name?: string;
  accountId?: string;
  os?: string;
}

export const DEFAULT_ACCOUNT_ID = 'simulated-account';
const DEFAULT_NODE_NAME = 'mcm-simulator';

/** `id` is required here: the simulator keeps one per instance so it stays the same across restarts. */
export function describeNode(identity: SimInsightIdentity & { id: string }, href: string): SimInsightNode {
  return {
    id: identity.id,
    accountId: identity.accountId ?? DEFAULT_ACCOUNT_ID,
    name: identity.name ?? DEFAULT_NODE_NAME,
    os: identity.os ?? platform(),
    addresses: [{ type: 'local', url: { href } }],
    services: [],
  };
}

/**
 * Why a request is refused, or undefined when its token is Insight's. Like the runtime's MCM:
 * 401 when no token came, 403 when a wrong one did. The MCM key is not Insight's token.
 */
export function insightRefusal(authorization: string | undefined, token: string): { status: number; message: string } | undefined {
  const sent = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!sent) return { status: 401, message: 'Unauthorized: send "Authorization: Bearer <Insight token>" (mimOE\'s default is 1234)' };
  if (sent !== token) return { status: 403, message: 'Forbidden: that is not the Insight token' };
  return undefined;
}

function isInsightType(value: string | null): value is SimInsightType {
  return (INSIGHT_TYPES as readonly (string | null)[]).includes(value);
}

/**
 * The body of the 200 answer to an authorised Insight request (SimError 400 for a bad type).
 * Every simulated device shares one host, so all peers are on the same link and close by:
 * linkLocal and proximity list them all, account those with this device's accountId. (A real
 * runtime wants a JWT stored with PUT /token before it answers account or proximity; the
 * simulator does not ask for one.)
 */
export function insightAnswer(route: InsightRoute, query: URLSearchParams, self: SimInsightNode, peers: SimInsightNode[]): unknown {
  if (route === 'insightInfo') return self;
  const type = query.get('type');
  if (!isInsightType(type)) {
    throw new SimError(400, `type must be one of ${INSIGHT_TYPES.join(', ')} (got ${type === null ? 'none' : JSON.stringify(type)})`);
  }
  return { data: type === 'account' ? peers.filter((node) => node.accountId === self.accountId) : peers };
}
