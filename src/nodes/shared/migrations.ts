/**
 * Config versions. Every node type saves `version` with its settings; a config saved with an older
 * one, or with none (flows saved by 0.1.0, before the field), is brought to the shape this release
 * reads by one step per version. The runtime runs it before a node reads its config, so every
 * saved flow works whether or not its nodes were opened again in the editor. Pure, with no Node-RED
 * imports, so each step is tested on its own.
 *
 * A new step goes at the end of its type's list; the list's length is the type's current version.
 * Steps return a new object and never change the one given.
 */
import { ACTION_DEFAULTS, CONNECTION_DEFAULTS, FLEET_DEFAULTS, ROLLOUT_DEFAULTS, WATCH_DEFAULTS } from '../../mcm/defaults';

/** A node's saved settings, as in a flow file. */
export interface SavedConfig {
  type: string;
  version?: unknown;
  [setting: string]: unknown;
}

type Step = (config: SavedConfig) => SavedConfig;

const isBlank = (value: unknown): boolean => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/**
 * Number settings: the dialogs saved them as text ("60"), and a blank one meant the default.
 * Text that is not a number (a `${VAR}` the editor shows unexpanded) stays for the runtime to judge.
 */
const numbers =
  (defaults: Record<string, number>): Step =>
  (config) => {
    const next = { ...config };
    for (const [key, fallback] of Object.entries(defaults)) {
      const value = config[key];
      if (isBlank(value)) next[key] = fallback;
      else if (typeof value === 'string' && DECIMAL.test(value.trim())) next[key] = Number(value);
    }
    return next;
  };

/** Choices and switches a flow saved before they existed lacks (or left blank): their defaults. */
const filled =
  (defaults: Record<string, string | boolean>): Step =>
  (config) => {
    const next = { ...config };
    for (const [key, fallback] of Object.entries(defaults)) if (isBlank(config[key])) next[key] = fallback;
    return next;
  };

/**
 * TypedInput fields saved without their type (`<field>Type`): the type the dialog starts with.
 * The runtime would read such a field as a string, the dialog shows a composition's specs as JSON.
 */
const inputTypes = (fields: string[], json: string[] = []): Step =>
  filled(
    Object.fromEntries([
      ...fields.map((field) => [`${field}Type`, ACTION_DEFAULTS.inputType]),
      ...json.map((field) => [`${field}Type`, ACTION_DEFAULTS.specsType]),
    ]),
  );

const steps =
  (...parts: Step[]): Step =>
  (config) =>
    parts.reduce((next, part) => part(next), config);

const {
  timeout,
  concurrency,
  answerTimeout,
  lowSpeedBytes,
  lowSpeedWindow,
  resource: mimsResource,
  tokenSource,
  insecure,
} = CONNECTION_DEFAULTS;
const connectionNumbers = { timeout, concurrency, answerTimeout, lowSpeedBytes, lowSpeedWindow };
const { resource, ifExists, waitStarted, waitTimeout } = ACTION_DEFAULTS;

/** For each type, in order: the step to version 1, to version 2, ... */
const MIGRATIONS: Record<string, Step[]> = {
  'mimoe-config': [steps(numbers(connectionNumbers), filled({ resource: mimsResource, tokenSource, insecure }))],
  'mimoe-fleet': [
    steps(
      numbers({ ...connectionNumbers, interval: FLEET_DEFAULTS.interval }),
      filled({
        resource: mimsResource,
        insecure,
        discover: FLEET_DEFAULTS.discover,
        includeSeed: FLEET_DEFAULTS.includeSeed,
        localKeyFile: FLEET_DEFAULTS.localKeyFile,
      }),
    ),
  ],
  'mimoe-deploy': [steps(numbers({ waitTimeout }), filled({ ifExists, waitStarted }), inputTypes(['mimName', 'image']))],
  'mimoe-composition': [
    steps(
      numbers({ waitTimeout }),
      filled({ ifExists, waitStarted, rollback: ACTION_DEFAULTS.compositionRollback }),
      inputTypes([], ['specs']),
    ),
  ],
  'mimoe-list': [filled({ resource })],
  'mimoe-remove': [steps(filled({ resource }), inputTypes(['target']))],
  'mimoe-upload': [steps(filled({ progressOutput: ACTION_DEFAULTS.progressOutput }), inputTypes(['filename']))],
  'mimoe-backup': [inputTypes(['mimId', 'path'])],
  'mimoe-restore': [inputTypes(['mimId', 'path'])],
  'mimoe-rollout': [
    steps(
      numbers({
        waitTimeout,
        canary: ROLLOUT_DEFAULTS.canary,
        parallel: ROLLOUT_DEFAULTS.parallel,
        maxFailures: ROLLOUT_DEFAULTS.maxFailures,
        healthTimeout: ROLLOUT_DEFAULTS.healthTimeout,
      }),
      filled({
        operation: ROLLOUT_DEFAULTS.operation,
        resource,
        ifExists,
        waitStarted,
        rollback: ROLLOUT_DEFAULTS.rollback,
        healthCheck: ROLLOUT_DEFAULTS.healthCheck,
        deviceOutput: ROLLOUT_DEFAULTS.deviceOutput,
      }),
      inputTypes(['devices', 'mimName', 'image', 'target', 'filename'], ['specs']),
    ),
  ],
  'mimoe-watch': [steps(numbers({ interval: WATCH_DEFAULTS.interval }), filled({ resource: WATCH_DEFAULTS.resource }))],
};

/** The version this release saves for a node type (0 for a type that is not this package's). */
export function configVersion(type: string): number {
  return MIGRATIONS[type]?.length ?? 0;
}

/** The name of the Node-RED setting that tells the editor a type's version (`mimoe-deploy` → `mimoeDeployVersion`). */
export function versionSettingName(type: string): string {
  return `${type.replace(/-(\w)/g, (_dash, letter: string) => letter.toUpperCase())}Version`;
}

export interface Migration {
  /** The config in this release's shape, at its current version; the given one when `newer`. */
  config: SavedConfig;
  /** The version it was saved with; 0 for none. */
  from: number;
  /** The version this release saves. */
  current: number;
  /** Saved by a newer release than this one: left as it is, for the caller to say so. */
  newer: boolean;
}

/**
 * The saved version: none (or one that is not a whole number, from a hand-edited flow) is 0, and
 * the steps from 1 on apply.
 */
function savedVersion(config: SavedConfig): number {
  const version = typeof config.version === 'string' && config.version.trim() !== '' ? Number(config.version) : config.version;
  return typeof version === 'number' && Number.isInteger(version) && version >= 0 ? version : 0;
}

/**
 * Brings a saved config to the shape this release reads. The editor calls it when a dialog opens
 * (and copies every key of `config` onto the node); the runtime before a node reads its settings.
 */
export function migrateConfig(config: SavedConfig): Migration {
  const list = MIGRATIONS[config.type] ?? [];
  const from = savedVersion(config);
  const current = list.length;
  if (from > current) return { config, from, current, newer: true };
  let next = config;
  for (let version = from + 1; version <= current; version++) next = { ...list[version - 1](next), version };
  return { config: next, from, current, newer: false };
}
