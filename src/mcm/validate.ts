/**
 * Checks that input is sendable before any request leaves. Shared by the client (a library user
 * gets the same guarantees) and the nodes (which translate `McmError.rule` through their catalogs).
 */
import { Readable } from 'node:stream';
import { McmError, McmOperation } from './errors';
import { isBlank, isStreamLike } from './input-checks';

export {
  checkEnv,
  checkId,
  checkImageName,
  checkName,
  checkSpecs,
  describeType,
  isBlank,
  isPlainObject,
  MAX_ENV_BYTES,
  setOwn,
  typeName,
} from './input-checks';

/** A Node.js Readable, or anything that quacks like one (streams from other libraries). */
export function isReadable(value: unknown): value is Readable {
  return value instanceof Readable || isStreamLike(value);
}

export function checkPath(op: McmOperation, path: unknown): string {
  if (isBlank(path) || typeof path !== 'string') throw McmError.invalid(op, 'path-missing');
  return path;
}

/**
 * Whether a header value (key, client id) can be sent as it is: HTTP would drop or mangle a
 * control character or a character outside Latin-1, and the runtime would only answer 403.
 */
export function sendableInHeader(value: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  return !/[\u0000-\u001f\u007f-\u009f]|[^\u0000-\u00ff]/.test(value);
}
