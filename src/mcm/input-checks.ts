/**
 * The input checks that need nothing from Node.js, so the editor's bundle runs the very rules the
 * client applies (src/editor imports them). src/mcm/validate.ts re-exports them beside the checks
 * that do need Node.js.
 */
import { McmError, McmOperation } from './errors';
import { Env, MimSpec } from './models';

/** Larger env bodies are refused locally: no runtime needs them, and they hint at a wiring mistake. */
export const MAX_ENV_BYTES = 64 * 1024;

/** What a value is, for an error text: `null`, `array` or its typeof. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Bytes (a Node.js Buffer is a Uint8Array): never a plain object, never "an object" in a text. */
const isBytes = (value: unknown): boolean => value instanceof Uint8Array;

/** Anything that quacks like a readable stream (Node.js streams and those of other libraries). */
export function isStreamLike(value: unknown): boolean {
  const candidate = value as { pipe?: unknown; on?: unknown } | null | undefined;
  return typeof candidate?.pipe === 'function' && typeof candidate?.on === 'function';
}

/** What a value is, said in words for an error text: "a string", "an array", "nothing". */
export function describeType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (isBytes(value)) return 'a Buffer';
  if (isStreamLike(value)) return 'a stream';
  const type = typeName(value);
  return type === 'null' ? 'null' : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !isBytes(value);
}

export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

export function checkName(op: McmOperation, name: unknown): string {
  if (isBlank(name) || typeof name !== 'string') throw McmError.invalid(op, 'name-missing');
  if (/\s/.test(name)) throw McmError.invalid(op, 'name-whitespace', { name });
  return name;
}

export function checkImageName(op: McmOperation, image: unknown): string {
  if (isBlank(image) || typeof image !== 'string') throw McmError.invalid(op, 'image-missing');
  return image.trim();
}

/**
 * Sets object[key] as an own entry: plain assignment of `__proto__` would try to change the
 * object's prototype and silently drop the entry.
 */
export function setOwn(object: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Env values must be strings; numbers and booleans become strings ("120", "true"). */
export function checkEnv(op: McmOperation, env: unknown): Env {
  if (env === undefined || env === null || env === '') return {};
  if (!isPlainObject(env)) throw McmError.invalid(op, 'env-not-object');
  const result: Env = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === 'string') setOwn(result, key, value);
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') setOwn(result, key, String(value));
    else throw McmError.invalid(op, 'env-value', { key, type: typeName(value) });
  }
  const size = new TextEncoder().encode(JSON.stringify(result)).length;
  if (size > MAX_ENV_BYTES) throw McmError.invalid(op, 'env-too-large', { size, max: MAX_ENV_BYTES });
  return result;
}

function checkSpec(op: McmOperation, spec: unknown, index = 0): MimSpec {
  if (!isPlainObject(spec)) throw McmError.invalid(op, 'spec-not-object', { index });
  return { name: checkName(op, spec.name), image: checkImageName(op, spec.image), env: checkEnv(op, spec.env) };
}

export function checkSpecs(op: McmOperation, specs: unknown): MimSpec[] {
  if (!Array.isArray(specs)) throw McmError.invalid(op, 'specs-not-array', { type: describeType(specs) });
  if (specs.length === 0) throw McmError.invalid(op, 'specs-empty');
  const seen = new Set<string>();
  return specs.map((spec, index) => {
    const checked = checkSpec(op, spec, index);
    if (seen.has(checked.name)) throw McmError.invalid(op, 'spec-duplicate-name', { name: checked.name });
    seen.add(checked.name);
    return checked;
  });
}

/**
 * Ids go into URL paths encoded, so `a/b` cannot reach another route; `.` and `..` survive
 * encoding and would be normalised away by servers, and whitespace never occurs in real ids.
 */
export function checkId(op: McmOperation, id: unknown): string {
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  if (isBlank(id) || typeof id !== 'string') throw McmError.invalid(op, 'id-missing');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (id === '.' || id === '..' || /[\s\u0000-\u001f\u007f]/.test(id)) throw McmError.invalid(op, 'id-invalid', { id });
  return id;
}
