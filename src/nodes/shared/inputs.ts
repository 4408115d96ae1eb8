/**
 * Input evaluation in one place. A field set in the node wins and is evaluated as its TypedInput
 * says (str, msg, flow, global, env, json...); a blank field takes its value from the msg.
 */
import type { Node } from 'node-red';
import { ACTION_DEFAULTS } from '../../mcm/defaults';
import { McmError, McmOperation } from '../../mcm/errors';
import { describeType, isBlank, isPlainObject, isReadable } from '../../mcm/validate';
import { MimoeNodeError, shared } from './errors';
import { Msg, NodeConfig, RED } from './runtime';

export type FromMsg = (msg: Msg) => unknown;

/**
 * The type of a TypedInput field saved without one (a config given to the Admin API, say): the
 * type its dialog starts with, JSON for a composition's specs.
 */
const defaultInputType = (key: string): string => (key === 'specs' ? ACTION_DEFAULTS.specsType : ACTION_DEFAULTS.inputType);

export function readInput(RED: RED, node: Node, config: NodeConfig, key: string, msg: Msg, fromMsg: FromMsg): Promise<unknown> {
  const value = config[key];
  if (isBlank(value)) return Promise.resolve(fromMsg(msg));
  const saved = config[`${key}Type`];
  const type = typeof saved === 'string' && saved ? saved : defaultInputType(key);
  return new Promise((resolve, reject) => {
    // The callback form is the one that works with asynchronous context stores.
    RED.util.evaluateNodeProperty(value as string, type, node, msg, (err: Error | null, result: unknown) => {
      if (err) reject(err);
      // Unset, it would read as blank, and the error would name what is missing, not the variable.
      else if (type === 'env' && isBlank(result)) reject(envUnset(RED, node, key, value as string));
      else resolve(result);
    });
  });
}

/**
 * msg.timeout, the msg's own limit in ms, when it has one. Digits in a text count (an http in
 * node's query gives text); anything else fails before any request instead of quietly falling
 * back to the server's timeout.
 */
export function messageTimeout(RED: RED, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (Number.isFinite(ms) && ms > 0) return ms;
  const shown =
    typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value === 'number' ? String(value) : describeType(value);
  throw invalidInput(RED, shared(RED, 'errors.msg-timeout', { value: shown }));
}

/** Input the node refuses before any request, with the status every invalid input shows. */
function invalidInput(RED: RED, message: string): MimoeNodeError {
  return new MimoeNodeError(message, 'MCM_INVALID_INPUT', { status: shared(RED, 'status.invalid-input') });
}

/** A field set to an environment variable that is not set (or empty): the error names both. */
function envUnset(RED: RED, node: Node, key: string, name: string): MimoeNodeError {
  const field = RED._(`${node.type}.label.${key}`);
  return invalidInput(RED, shared(RED, 'errors.env-input', { name, field }));
}

/** An object msg.payload a node reads its blank fields from: for the error when it is something else. */
export interface PayloadShape {
  operation: McmOperation;
  /** How the object looks, e.g. `{name, image, env}`. */
  shape: string;
}

export const DEPLOY_PAYLOAD: PayloadShape = { operation: 'deployMim', shape: '{name, image, env}' };

/**
 * Reads `msg.payload.<key>` when the payload is an object. With `expected`, a payload that is not
 * an object fails saying what it should be (a field the node leaves blank must come from it);
 * without, it reads as undefined (an optional field).
 */
export function fromPayload(key: string, expected?: PayloadShape): FromMsg {
  return (msg) => {
    if (isPlainObject(msg.payload) && !isReadable(msg.payload)) return msg.payload[key];
    if (expected)
      throw McmError.invalid(expected.operation, 'payload-not-object', { shape: expected.shape, type: describeType(msg.payload) });
    return undefined;
  };
}

/** An id given as `msg.payload = "<id>"` or `msg.payload = {id}`. */
export const idFromPayload: FromMsg = (msg) =>
  typeof msg.payload === 'string' || typeof msg.payload === 'number' ? msg.payload : fromPayload('id')(msg);

export interface UploadInput {
  /** A file path, or the tar itself (a Buffer or a stream). */
  source: unknown;
  /** The file name for a tar given in msg.payload, from msg.filename. */
  filename?: string;
}

/**
 * The image of the upload nodes: a path set in the node (field `filename`) wins; then the tar in
 * msg.payload, as a Buffer or a stream; then the path in msg.filename.
 */
export async function uploadInput(input: (key: string, fromMsg: FromMsg) => Promise<unknown>, msg: Msg): Promise<UploadInput> {
  const payloadIsTar = Buffer.isBuffer(msg.payload) || isReadable(msg.payload);
  const path = await input('filename', (m) => (payloadIsTar ? undefined : m.filename));
  const source = path ?? msg.payload;
  if (typeof source === 'string' && path === undefined) throw McmError.invalid('uploadImage', 'source-path-in-payload');
  const filename = payloadIsTar && typeof msg.filename === 'string' ? msg.filename.split(/[\\/]/).pop() : undefined;
  return { source, filename };
}
