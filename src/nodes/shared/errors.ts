/**
 * The one error funnel: every failure of every node becomes a translated message, a short
 * status reason, and (for HTTP failures) msg.statusCode. No token can reach these texts: the
 * client redacts server echoes and never keeps the HTTP library's error.
 */
import { McmError } from '../../mcm/errors';
import { FleetError } from '../../mcm/fleet';
import { FLEET_CATALOG, RED, SHARED_CATALOG } from './runtime';

/** An Error whose toString() is its message, so a Catch node's msg.error.message reads cleanly. */
export class MimoeNodeError extends Error {
  readonly code: string;
  /** The status ring's text; default the shared "error". */
  readonly status?: string;
  /** A result to put in msg.payload for Catch nodes. */
  readonly payload?: unknown;
  constructor(message: string, code: string, extra: { status?: string; payload?: unknown } = {}) {
    super(message);
    this.code = code;
    this.status = extra.status;
    this.payload = extra.payload;
  }
  override toString(): string {
    return this.message;
  }
}

export interface NodeFailure {
  error: MimoeNodeError;
  /** A few words for the status ring. */
  status: string;
  statusCode?: number;
}

export function shared(RED: RED, key: string, params?: Record<string, unknown>): string {
  return RED._(`${SHARED_CATALOG}:mimoe.${key}`, params as Record<string, string>);
}

/**
 * Settings of a mimoe-config that the client refused (a URL it cannot use, an odd key, a missing
 * proxy node): `problem` is the client's reason. For nodes that use the config, and for the
 * editor's Test connection.
 */
export function configError(RED: RED, problem: unknown): MimoeNodeError {
  const reason = problem instanceof Error ? problem.message : String(problem);
  return new MimoeNodeError(shared(RED, 'errors.config-invalid', { reason }), 'MCM_CONFIG', { status: shared(RED, 'status.config') });
}

/**
 * Required inputs the deploy and remove nodes (and a rollout of those) read from a field or, when
 * it is blank, from msg.payload: the hint says both places, since the rule alone names neither.
 */
const WHERE_TO_SET: Record<string, string> = {
  'deployMim name-missing': 'mim-name',
  'deployMim image-missing': 'image',
  'removeMim id-missing': 'id',
  'deleteImage id-missing': 'id',
};

/** Input rules about the config node's key, not about the msg. */
const KEY_RULES = new Set(['token-unavailable', 'token-invalid', 'token-missing']);

/**
 * A 401 or 403 to a call that carries the MCM key: the runtime refused the key. (Insight's own
 * token and a mim's health check, which sends no key, mean something else.)
 */
function keyRefused(err: McmError): boolean {
  return (
    err.code === 'http' &&
    (err.statusCode === 401 || err.statusCode === 403) &&
    err.operation !== 'discoverMembers' &&
    err.operation !== 'checkHealth'
  );
}

/**
 * msg.statusCode of a failure for Catch nodes: the runtime's HTTP status, or none. A status code an
 * earlier node left in the msg (an http request node's 200) would say the call got that answer.
 */
export function setStatusCode(msg: Record<string, unknown>, failure: NodeFailure): void {
  if (failure.statusCode !== undefined) msg.statusCode = failure.statusCode;
  else delete msg.statusCode;
}

/**
 * An HTTP error answered with a web page (HTML or XML, not MCM's JSON): the URL reaches some
 * other server. Its markup would fill the message and say nothing a person can act on.
 */
function answeredWithPage(err: McmError): boolean {
  return (
    err.code === 'http' && err.structured !== true && (/html|xml/.test(err.contentType ?? '') || /^\s*</.test(err.serverMessage ?? ''))
  );
}

export function describeFailure(RED: RED, err: unknown): NodeFailure {
  if (err instanceof McmError) {
    const reason = err.rule ? shared(RED, `invalid.${err.rule}`, err.params) : '';
    const page = answeredWithPage(err);
    let message = shared(RED, `errors.${err.code}`, {
      ...err.params,
      operation: err.operation,
      status: err.statusCode ?? '',
      message: page ? shared(RED, 'errors.web-page', { type: err.contentType ?? 'markup' }) : (err.serverMessage ?? ''),
      detail: err.detail ?? '',
      reason,
    }).trimEnd();
    // The runtime's own words ("Forbidden") do not say what to do.
    if (keyRefused(err)) message += shared(RED, 'errors.key-refused');
    const where = WHERE_TO_SET[`${err.operation} ${err.rule}`];
    if (where) message += shared(RED, `errors.where.${where}`);
    // A name given for an id (some runtimes delete images by name, most do not) reads as "not found".
    if (err.code === 'http' && err.statusCode === 404 && (err.operation === 'removeMim' || err.operation === 'deleteImage'))
      message += shared(RED, 'errors.id-hint');
    if (err.rolledBack.length) message += shared(RED, 'errors.rolled-back', { ids: err.rolledBack.join(', ') });
    if (err.rollbackFailed.length) message += shared(RED, 'errors.rollback-failed', { ids: err.rollbackFailed.join(', ') });
    const status = keyRefused(err)
      ? shared(RED, 'status.key-refused', { status: err.statusCode })
      : KEY_RULES.has(err.rule ?? '')
        ? shared(RED, 'status.config')
        : page
          ? shared(RED, 'status.no-api')
          : err.code === 'http'
            ? `HTTP ${err.statusCode}`
            : shared(RED, `status.${err.code}`);
    return { error: new MimoeNodeError(message, `MCM_${err.code.toUpperCase().replace(/-/g, '_')}`), status, statusCode: err.statusCode };
  }
  if (err instanceof FleetError) {
    const message = RED._(`${FLEET_CATALOG}:mimoe-fleet.errors.${err.code}`, err.params as Record<string, string>);
    return {
      error: new MimoeNodeError(message, `MCM_FLEET_${err.code.toUpperCase().replace(/-/g, '_')}`),
      status: shared(RED, 'status.error'),
    };
  }
  if (err instanceof MimoeNodeError) return { error: err, status: err.status ?? shared(RED, 'status.error') };
  const message = err instanceof Error ? err.message : String(err);
  return { error: new MimoeNodeError(message, 'MCM_UNEXPECTED'), status: shared(RED, 'status.error') };
}
