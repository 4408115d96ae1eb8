/**
 * What the simulator accepts in a request body, written from the contract (docs/mcm-api.md,
 * "Models" and "Operations") and not from the client's own checks in src/mcm/validate.ts: the
 * simulator is the tests' oracle, so a rule the client gets wrong must fail against it.
 *
 * The runtime receives what a client sends and converts nothing: env values that are not
 * strings are refused, not turned into strings, and names are taken exactly as sent.
 */
import { isJsonObject } from './request-body';
import { DATA_STORE_ACTIONS, SimDataStoreAction, SimEnv, SimMimSpec } from './shapes';
import { SimError } from './state';

/** A JSON value's kind, as an error text names it. */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

const refuse = (label: string, text: string): never => {
  throw new SimError(400, label + text);
};

/** `name`: the instance name, a string without whitespace. */
function specName(raw: unknown, label: string): string {
  if (typeof raw !== 'string' || raw === '') return refuse(label, 'a mim name is required ("name": a string)');
  if (/\s/u.test(raw)) return refuse(label, `the mim name ${JSON.stringify(raw)} must not contain whitespace`);
  return raw;
}

/** `image`: an image name, looked up exactly as sent (an unknown name is the profile's answer, not a 400). */
function specImage(raw: unknown, label: string): string {
  if (typeof raw !== 'string' || raw === '') return refuse(label, 'an image name is required ("image": the name of an uploaded image)');
  return raw;
}

/** `env`: optional; an object of string values. */
function specEnv(raw: unknown, label: string): SimEnv {
  if (raw === undefined || raw === null) return {};
  if (!isJsonObject(raw)) return refuse(label, `env must be an object of string values (got ${jsonKind(raw)})`);
  const env: SimEnv = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') return refuse(label, `env value ${JSON.stringify(key)} must be a string (got ${jsonKind(value)})`);
    env[key] = value;
  }
  return env;
}

/** A MimSpec `{name, image, env?}`; `label` says which spec of a composition it is. */
export function toSpec(body: unknown, label = ''): SimMimSpec {
  if (!isJsonObject(body)) return refuse(label, `a mim spec must be a JSON object {name, image, env} (got ${jsonKind(body)})`);
  return { name: specName(body.name, label), image: specImage(body.image, label), env: specEnv(body.env, label) };
}

/** A composition: `{"mims": [MimSpec, ...]}`, or the wrappers a runtime might take, `{"data": [...]}` and a bare array. */
export function toSpecs(body: unknown): SimMimSpec[] {
  const list = Array.isArray(body) ? body : isJsonObject(body) ? (body.mims ?? body.data) : undefined;
  if (!Array.isArray(list)) {
    return refuse('', 'a composition must be {"mims": [mim specs]}, {"data": [...]} or an array of mim specs');
  }
  if (list.length === 0) return refuse('', 'a composition needs at least one mim spec');
  return list.map((spec, index) => toSpec(spec, `mim spec ${index}: `));
}

/** A data store request `{"action": "backup"|"restore", "path": <a file path on the host>}`. */
export function toDataStoreRequest(body: unknown): { action: SimDataStoreAction; path: string } {
  if (!isJsonObject(body)) return refuse('', `the body must be a JSON object {action, path} (got ${jsonKind(body)})`);
  const { action, path } = body;
  if (!DATA_STORE_ACTIONS.includes(action as SimDataStoreAction)) {
    return refuse('', `action must be "backup" or "restore" (got ${JSON.stringify(action) ?? 'nothing'})`);
  }
  if (typeof path !== 'string' || path.trim() === '') {
    return refuse('', 'a data store path is required ("path": a file path on the mimOE host)');
  }
  return { action: action as SimDataStoreAction, path };
}
