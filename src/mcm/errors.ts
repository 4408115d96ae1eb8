/**
 * The one error type of the MCM client. It names the operation, and for HTTP failures carries the
 * status and the server's own message. It never carries the token, the request config or the
 * underlying HTTP library's error (whose config holds the Authorization header).
 */

export type McmOperation =
  | 'listMims'
  | 'deployMim'
  | 'removeMim'
  | 'listImages'
  | 'uploadImage'
  | 'deleteImage'
  | 'deployComposition'
  | 'backupDataStore'
  | 'restoreDataStore'
  | 'checkConnection'
  /** Fleets: Insight's node list on the seed runtime, and a mim's health check after a rollout step. */
  | 'discoverMembers'
  | 'checkHealth';

export type McmErrorCode =
  /** Refused locally before any request: see `rule`. */
  | 'invalid-input'
  /** The runtime answered with a non-2xx status. */
  | 'http'
  /** A time limit was hit (silence, a stalled upload, the wait for an upload's answer): `detail` says which. */
  | 'timeout'
  /** Could not connect: refused, unknown host, unreachable network. */
  | 'unreachable'
  /** The connection broke mid-request (reset, closed early). */
  | 'connection'
  /** TLS handshake or certificate problem. */
  | 'tls'
  /** A 2xx answer whose body could not be used. */
  | 'bad-response'
  /** The runtime reported that the operation failed (data store `failed`). */
  | 'operation-failed'
  /** Mims deployed but not `started` within the wait. */
  | 'not-started'
  /** The caller aborted (node closed, flow redeployed). */
  | 'aborted'
  /** Nothing answers at that path (an empty 503): the base URL is wrong. */
  | 'no-api'
  /** The answer grew past the client's limit (maxResponseBytes). */
  | 'too-large';

/** Rules that input breaks; each has an English text here and a catalog entry in the nodes. */
export type InvalidInputRule =
  | 'name-missing'
  | 'name-whitespace'
  | 'image-missing'
  | 'env-not-object'
  | 'env-value'
  | 'env-too-large'
  | 'specs-not-array'
  | 'specs-empty'
  | 'spec-not-object'
  | 'spec-duplicate-name'
  | 'id-missing'
  | 'id-invalid'
  | 'path-missing'
  | 'source-missing'
  | 'source-unreadable'
  | 'source-directory'
  | 'source-empty'
  | 'source-stream-failed'
  | 'source-type'
  | 'source-not-file'
  | 'source-changed'
  | 'source-size-mismatch'
  | 'source-spool-failed'
  | 'source-path-in-payload'
  | 'token-unavailable'
  | 'token-invalid'
  | 'token-missing'
  | 'payload-not-object'
  | 'if-exists';

export type ErrorParams = Record<string, string | number>;

export const INVALID_INPUT_TEXT: Readonly<Record<InvalidInputRule, string>> = {
  'name-missing': 'a mim name is required',
  'name-whitespace': 'the mim name "__name__" must not contain whitespace',
  'image-missing': 'an image name is required',
  'env-not-object': 'env must be an object of string values',
  'env-value': 'env value "__key__" must be a string (got __type__)',
  'env-too-large': 'env is too large (__size__ bytes, at most __max__)',
  'specs-not-array': 'a composition must be an array of mim specs {name, image, env} (got __type__)',
  'specs-empty': 'a composition needs at least one mim spec',
  'spec-not-object': 'mim spec __index__ must be an object {name, image, env}',
  'spec-duplicate-name': 'the name "__name__" appears twice in the composition',
  'id-missing': 'an id is required',
  'id-invalid': 'the id "__id__" is not a valid id',
  'path-missing': 'a data store path on the mimOE host is required',
  'source-missing': 'an image tar is required: a Buffer or stream in msg.payload, or a file path',
  'source-unreadable': 'cannot read the image file "__path__" (__reason__)',
  'source-directory': 'the image path "__path__" is a directory, not a tar file',
  'source-empty': 'the image is empty (0 bytes)',
  'source-stream-failed': 'reading the image stream failed (__reason__)',
  'source-type': 'the image must be a Buffer, a byte stream or a file path (got __type__)',
  'source-not-file': 'the image path "__path__" is a __kind__, not a file; read it into msg.payload as a stream instead',
  'source-changed':
    'the image file "__path__" changed size while it was being sent (from __expected__ to __actual__ bytes); send it again once it is complete',
  'source-size-mismatch': 'the image stream does not have the size given for it (__expected__ bytes)',
  'source-spool-failed': 'cannot keep the image stream in a temporary file to learn its length (__reason__)',
  'source-path-in-payload':
    'msg.payload is a string: put a file path in msg.filename (or in the node), or the tar itself in msg.payload as a Buffer or stream',
  'token-unavailable': 'no API key or token (__reason__)',
  'token-invalid':
    'the API key or token holds a line break, another control character or a character outside Latin-1, so it cannot be sent; check the key or the key file',
  'token-missing':
    'no API key or token is set (a blank key, or an ${ENV_VAR} that is empty): mimOE refuses every call without one; set the key in the config node, or read it from the key file',
  'payload-not-object': 'msg.payload must be an object __shape__ when the node leaves those fields blank (got __type__)',
  'if-exists': 'ifExists must be "fail", "replace" or "keep" (got "__value__")',
};

/** Fills `__name__` placeholders, the syntax Node-RED's catalogs use too. */
export function fillPlaceholders(text: string, params: ErrorParams): string {
  return text.replace(/__(\w+)__/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

export interface McmErrorInit {
  operation: McmOperation;
  code: McmErrorCode;
  statusCode?: number;
  serverMessage?: string;
  rule?: InvalidInputRule;
  params?: ErrorParams;
  /** Extra text for network failures, e.g. the system error code. */
  detail?: string;
  /** How long the runtime asked to wait before retrying (Retry-After). */
  retryAfterMs?: number;
  /** The media type of the runtime's error answer (`text/html`), without parameters. */
  contentType?: string;
  /**
   * True when serverMessage came from a recognised JSON error shape; false for text, HTML or
   * unknown JSON (then the answer may not be MCM's at all).
   */
  structured?: boolean;
  /** What the runtime answered, when it answered with a result that says "failed". */
  result?: unknown;
  /** Ids of mims removed again after a failed composition. */
  rolledBack?: string[];
  /** Ids of mims that could not be removed again. */
  rollbackFailed?: string[];
}

export class McmError extends Error {
  override readonly name = 'McmError';
  readonly operation: McmOperation;
  readonly code: McmErrorCode;
  readonly statusCode?: number;
  readonly serverMessage?: string;
  readonly rule?: InvalidInputRule;
  readonly params: ErrorParams;
  readonly detail?: string;
  readonly retryAfterMs?: number;
  readonly contentType?: string;
  readonly structured?: boolean;
  readonly result?: unknown;
  readonly rolledBack: string[];
  readonly rollbackFailed: string[];

  constructor(init: McmErrorInit) {
    super(describe(init));
    this.operation = init.operation;
    this.code = init.code;
    this.statusCode = init.statusCode;
    this.serverMessage = init.serverMessage;
    this.rule = init.rule;
    this.params = init.params ?? {};
    this.detail = init.detail;
    this.retryAfterMs = init.retryAfterMs;
    this.contentType = init.contentType;
    this.structured = init.structured;
    this.result = init.result;
    this.rolledBack = init.rolledBack ?? [];
    this.rollbackFailed = init.rollbackFailed ?? [];
  }

  static invalid(operation: McmOperation, rule: InvalidInputRule, params: ErrorParams = {}): McmError {
    return new McmError({ operation, code: 'invalid-input', rule, params });
  }

  /** The text of an invalid-input rule, without the operation. */
  static ruleText(rule: InvalidInputRule, params: ErrorParams): string {
    return fillPlaceholders(INVALID_INPUT_TEXT[rule], params);
  }
}

function describe(init: McmErrorInit): string {
  let text = describeFailure(init);
  if (init.rolledBack?.length) text += `; rolled back: ${init.rolledBack.join(', ')}`;
  if (init.rollbackFailed?.length) text += `; could not remove: ${init.rollbackFailed.join(', ')}`;
  return text;
}

function describeFailure(init: McmErrorInit): string {
  const op = init.operation;
  const detail = init.detail ? ` (${init.detail})` : '';
  switch (init.code) {
    case 'invalid-input':
      return `${op}: ${McmError.ruleText(init.rule ?? 'id-missing', init.params ?? {})}`;
    case 'http':
      return `${op} failed: HTTP ${init.statusCode} ${init.serverMessage ?? ''}`.trimEnd();
    case 'timeout':
      return `${op} failed: timed out${detail}`;
    case 'unreachable':
      return `${op} failed: cannot reach the runtime${detail}`;
    case 'connection':
      return `${op} failed: the connection to the runtime broke${detail}`;
    case 'tls':
      return `${op} failed: TLS problem${detail}`;
    case 'bad-response':
      return `${op} failed: the runtime sent an answer that cannot be read${detail}`;
    case 'operation-failed':
      return `${op} failed: ${init.serverMessage || 'the runtime reported a failure'}`;
    case 'not-started':
      return `${op} failed: not started within ${init.params?.seconds} s: ${init.params?.mims}`;
    case 'aborted':
      return `${op} aborted`;
    case 'no-api':
      return `${op} failed: nothing answers at that path${detail}; check the config node's URL (the base URL, without /mcm/v1)`;
    case 'too-large':
      return `${op} failed: the answer is too large${detail}`;
  }
}
