/** Requests to the runtime's admin routes (src/nodes/shared/editor-api.ts, registered by mimoe-config). */
import { EDITOR_SETTINGS, PASSWORD_PLACEHOLDER } from '../nodes/shared/editor-contract';
import { shared } from './texts';

/** What the admin routes take: a config node's id, its settings and the key field. */
export interface ConfigQuery {
  id: string;
  settings: Record<string, unknown>;
  token: string;
}

/** What every admin route answers; a failure carries the reason a person can act on. */
export interface AdminAnswer {
  ok?: boolean;
  message?: string;
  [field: string]: unknown;
}

/** The settings the routes take, read from `source` (a node, or the dialog's values). */
export function configSettings(source: Record<string, unknown>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const key of EDITOR_SETTINGS) settings[key] = source[key];
  return settings;
}

/**
 * The query for a config node chosen in another node's dialog. A config node edited in this
 * session but not deployed carries its values (and a newly typed key in `credentials.token`) on
 * the editor's node object; otherwise the runtime uses the saved key.
 */
export function configQuery(serverId: string | undefined): ConfigQuery | undefined {
  const node = serverId ? RED.nodes.node(serverId) : null;
  if (!node || node.type !== 'mimoe-config') return undefined;
  const typed = node.credentials?.token;
  const token = typeof typed === 'string' && typed !== '' ? typed : PASSWORD_PLACEHOLDER;
  return { id: node.id, settings: configSettings(node), token };
}

export function post(path: string, body: object): JQueryXhr {
  return $.ajax({
    url: path,
    type: 'POST',
    contentType: 'application/json',
    data: JSON.stringify(body),
    dataType: 'json',
    timeout: 30_000,
  });
}

/** A sentence for a request to the Node-RED runtime that failed before the MCM answered. */
export function requestFailure(xhr: JQueryXhr | undefined): string {
  const status = xhr?.status ?? 0;
  if (status === 401 || status === 403) return shared('request.forbidden');
  if (status === 404) return shared('request.notFound');
  if (!status) return shared('request.unreachable');
  return shared('request.failed', { status, text: xhr?.statusText ?? '' });
}

/** The answer of an admin route as AdminAnswer (anything else counts as a failure without a reason). */
export function asAnswer(answer: unknown): AdminAnswer {
  return answer !== null && typeof answer === 'object' ? (answer as AdminAnswer) : {};
}
