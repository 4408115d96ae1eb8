/**
 * Validators for the `defaults` of the registerType literals. Each takes exactly two arguments,
 * so Node-RED shows a string result as the reason (a 3.x validator). Where the runtime applies a
 * rule to the same input, the rule is the runtime's own (src/mcm/input-checks.ts,
 * src/mcm/name-filter.ts) and so is its text (the `mimoe.invalid` section of the catalog).
 */
import { McmError } from '../mcm/errors';
import { checkId, checkName, checkSpecs, isBlank } from '../mcm/input-checks';
import { nameFilterFault } from '../mcm/name-filter';
import { runtimeText, t } from './texts';

/** A value starting with `${NAME}`: the runtime puts the environment variable NAME there. */
const ENV_REFERENCE = /^\$\{\w+\}/;

export const isEnvReference = (value: unknown): boolean => ENV_REFERENCE.test(String(value ?? '').trim());

/** Runs a runtime check: true, or the runtime's text of the rule it throws. */
function runtimeRule(check: () => unknown): true | string {
  try {
    check();
    return true;
  } catch (err) {
    if (err instanceof McmError && err.rule) return runtimeText(`invalid.${err.rule}`, err.params);
    throw err;
  }
}

/** A string field's own rule: true, or the reason. */
type TextRule = (text: string) => true | string;

/** Runtime rules of the string fields that name a mim or an id. */
export const MIM_NAME: TextRule = (text) => runtimeRule(() => checkName('deployMim', text));
export const ID: TextRule = (text) => runtimeRule(() => checkId('removeMim', text));
/** No whitespace (the runtime has no rule here, but no image name holds any): `<type>.<key>`. */
export const noWhitespace =
  (type: string, key: string): TextRule =>
  (text) =>
    /\s/.test(text) ? t(type, key) : true;

export interface TypedCheck {
  /** The node type whose catalog has the texts. */
  type: string;
  /** The defaults property that holds the TypedInput's type. */
  typeField: string;
  defaultType?: string;
  /** The rule of a string value. */
  text?: TextRule;
  /** The rule of a JSON value, parsed. */
  json?: (parsed: unknown) => true | string;
}

/**
 * A TypedInput field whose blank value means "take it from msg": a string by `o.text`, JSON by
 * `o.json`, any other type by Node-RED's own TypedInput validator.
 */
export function typed(o: TypedCheck): Validator {
  return function (this: EditorNode, value, options) {
    if (isBlank(value)) return true;
    const type = $(`#node-input-${o.typeField}`).val() || (this?.[o.typeField] as string | undefined) || o.defaultType || 'str';
    if (type === 'str') return o.text ? o.text(String(value)) : true;
    const result = RED.validators.typedInput({ type, allowBlank: true })(value, options ?? {});
    if (result !== true) return result || t(o.type, 'validation.invalid');
    if (type !== 'json' || !o.json) return true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(value));
    } catch {
      return t(o.type, 'validation.invalid');
    }
    return o.json(parsed);
  };
}

export interface NumberCheck {
  /** At least. */
  min?: number;
  /** More than. */
  above?: number;
  integer?: boolean;
  /** Blank is fine too. */
  allowBlank?: boolean;
}

/**
 * A number field; the reason is `<type>.validation.<field>`. A value the node does not have at
 * all is fine: a flow saved before the setting existed (the editor applies no defaults on import),
 * and every node's runtime takes the default then.
 */
export function number(type: string, field: string, o: NumberCheck): Validator {
  return (value, _options) => {
    if (value === undefined || value === null || (o.allowBlank && isBlank(value))) return true;
    const n = Number(value);
    const valid =
      !isBlank(value) &&
      Number.isFinite(n) &&
      (o.min === undefined || n >= o.min) &&
      (o.above === undefined || n > o.above) &&
      (!o.integer || Math.floor(n) === n);
    return valid || t(type, `validation.${field}`);
  };
}

/** One of `values` (or unset: a flow saved before the setting existed); the reason is `<type>.validation.<field>`. */
export function oneOf(type: string, field: string, values: readonly string[]): Validator {
  return (value, _options) => value === undefined || values.includes(String(value)) || t(type, `validation.${field}`);
}

/** The env list of a dialog ([{key, value}]): keys without whitespace, each key once. */
export function envList(type: string): Validator {
  return (value, _options) => {
    if (value === undefined || value === null || value === '') return true;
    if (!Array.isArray(value)) return t(type, 'validation.env');
    const seen = new Set<string>();
    for (const entry of value as Array<{ key?: unknown } | null>) {
      if (!entry || typeof entry.key !== 'string') return t(type, 'validation.env');
      const key = entry.key.trim();
      if (/\s/.test(key)) return t(type, 'validation.envKeyWhitespace', { key });
      if (seen.has(key)) return t(type, 'validation.envKeyDuplicate', { key });
      seen.add(key);
    }
    return true;
  };
}

/** A composition, parsed: the client's own rules. */
export const specs = (parsed: unknown): true | string => runtimeRule(() => checkSpecs('deployComposition', parsed));

/**
 * A runtime URL: http:// or https:// followed by a host, or starting with a `${NAME}` reference
 * to an environment variable of Node-RED (the runtime expands it, e.g. `${MIMOE_URL}/mcm/v1`).
 */
export function urlProblem(value: unknown): 'missing' | 'invalid' | undefined {
  const url = String(value ?? '').trim();
  if (url === '') return 'missing';
  return /^https?:\/\/[^\s/]+/i.test(url) || ENV_REFERENCE.test(url) ? undefined : 'invalid';
}

/** The config node's URL: required, and a URL. */
export const configUrl: Validator = (value, _options) => {
  const problem = urlProblem(value);
  return problem === undefined || t('mimoe-config', problem === 'missing' ? 'validation.urlRequired' : 'validation.url');
};

/** Member names or globs, comma-separated: true, or the reason, from the mimoe-fleet catalog. */
export function names(value: unknown): true | string {
  const fault = nameFilterFault(String(value ?? ''));
  if (!fault) return true;
  return t('mimoe-fleet', fault.rule === 'empty-entry' ? 'validation.filterEmpty' : 'validation.filterWildcards');
}

/** The listed members of a fleet: each with a name (used once) and a URL. */
export const members: Validator = (value, _options) => {
  if (value === undefined || value === null || value === '') return true;
  if (!Array.isArray(value)) return t('mimoe-fleet', 'validation.members');
  const seen = new Set<string>();
  for (const member of value as Array<{ name?: unknown; url?: unknown } | null>) {
    const name = typeof member?.name === 'string' ? member.name.trim() : '';
    if (!name || seen.has(name) || urlProblem(member?.url) !== undefined) return t('mimoe-fleet', 'validation.members');
    seen.add(name);
  }
  return true;
};
