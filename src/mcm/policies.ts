/**
 * Beyond mimik's one-shot SDK calls: deploys that are safe to repeat (ifExists), waiting until
 * mims are started, and compositions that undo what they created when they fail part-way.
 * Built only from McmClient calls, so library users get the same behaviour as the nodes.
 */
import { CallOptions, McmClient } from './client';
import { ACTION_DEFAULTS, CLIENT_DEFAULTS } from './defaults';
import { delay } from './delay';
import { McmError, McmOperation } from './errors';
import { Env, IF_EXISTS, IfExists, Mim, MimSpec } from './models';
import { checkEnv, checkImageName, checkName, checkSpecs } from './validate';

export interface DeployPolicy {
  /** What to do when a mim of the same name runs already. Default `fail`. */
  ifExists?: IfExists;
  /** Poll until every mim's state is `started`. */
  waitStarted?: boolean;
  /** Longest wait for `started`. Default 60 000 ms. */
  waitTimeoutMs?: number;
  /** Poll interval while waiting. Default 500 ms. */
  pollMs?: number;
  /** Compositions: remove the mims this call created when it fails part-way. Default true. */
  rollback?: boolean;
  /** Called while waiting: how many of the mims are started. */
  onWaiting?: (started: number, total: number) => void;
}

export function parseIfExists(value: unknown, operation: McmOperation): IfExists {
  if (value === undefined || value === null || value === '') return ACTION_DEFAULTS.ifExists;
  if ((IF_EXISTS as readonly unknown[]).includes(value)) return value as IfExists;
  throw McmError.invalid(operation, 'if-exists', { value: String(value) });
}

export function sameEnv(a: Env, b: Env): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** The running mim matches the spec: same image, same env. */
function matches(mim: Mim, spec: MimSpec): boolean {
  return mim.image === spec.image && sameEnv(mim.env, spec.env ?? {});
}

/**
 * Splits specs by what ifExists says about the mims already running: which to keep as they
 * are, which running mims to remove first, and which specs to deploy.
 */
function plan(specs: MimSpec[], running: Mim[], ifExists: IfExists): { keep: Mim[]; remove: Mim[]; deploy: MimSpec[] } {
  const byName = new Map(running.map((mim) => [mim.name, mim]));
  const keep: Mim[] = [];
  const remove: Mim[] = [];
  const deploy: MimSpec[] = [];
  for (const spec of specs) {
    const current = byName.get(spec.name);
    if (current && ifExists === 'keep' && matches(current, spec)) keep.push(current);
    else {
      if (current && ifExists !== 'fail') remove.push(current);
      deploy.push(spec);
    }
  }
  return { keep, remove, deploy };
}

export async function deployMimWithPolicy(client: McmClient, spec: MimSpec, policy: DeployPolicy = {}, call?: CallOptions): Promise<Mim> {
  const op = 'deployMim';
  const checked: MimSpec = { name: checkName(op, spec.name), image: checkImageName(op, spec.image), env: checkEnv(op, spec.env) };
  const ifExists = policy.ifExists ?? ACTION_DEFAULTS.ifExists;
  let mim: Mim;
  if (ifExists === 'fail') {
    mim = await client.deployMim(checked.name, checked.image, checked.env, call);
  } else {
    const { keep, remove } = plan([checked], await runningMims(client, op, call), ifExists);
    if (keep.length) return keep[0];
    for (const old of remove) await client.removeMim(old.id, call);
    try {
      mim = await client.deployMim(checked.name, checked.image, checked.env, call);
    } catch (err) {
      // The same event twice at once: the other one deployed it, and runtimes answer such a
      // duplicate with 409, 400 or 500 alike. Keep its mim if it matches.
      const twin = ifExists === 'keep' && (await twins(client, err, [checked], call));
      if (!twin) throw err;
      mim = twin[0];
    }
  }
  if (!policy.waitStarted) return mim;
  return (await waitUntilStarted(client, op, [mim], policy, call))[0];
}

export async function deployCompositionWithPolicy(
  client: McmClient,
  specs: MimSpec[],
  policy: DeployPolicy = {},
  call?: CallOptions,
): Promise<Mim[]> {
  const op = 'deployComposition';
  const checked = checkSpecs(op, specs);
  const ifExists = policy.ifExists ?? ACTION_DEFAULTS.ifExists;
  const rollback = policy.rollback ?? ACTION_DEFAULTS.compositionRollback;
  const before = await runningMims(client, op, call);
  const { keep, remove, deploy } = plan(checked, before, ifExists);
  for (const old of remove) await client.removeMim(old.id, call);
  const beforeIds = new Set(before.filter((m) => !remove.includes(m)).map((m) => m.id));

  let deployed: Mim[] | undefined;
  try {
    deployed = deploy.length ? await client.deployComposition(deploy, call) : [];
    const all = checked
      .map((spec) => keep.find((m) => m.name === spec.name) ?? deployed?.find((m) => m.name === spec.name))
      .filter((m): m is Mim => !!m);
    return policy.waitStarted ? await waitUntilStarted(client, op, all, policy, call) : all;
  } catch (err) {
    if (!(err instanceof McmError) || err.code === 'aborted' || err.code === 'invalid-input') throw err;
    // Rollback runs after the caller's own deadline may have passed: it gets a fresh timeout, no signal.
    const own: CallOptions = { timeoutMs: call?.timeoutMs };
    if (deployed) {
      // The runtime answered with this call's mims (they did not start in time): those are its own.
      if (!rollback) throw err;
      throw withRollback(err, ...(await removeMims(client, deployed, own)));
    }
    // The same event twice at once: the other call deployed these names; keep its mims if they match.
    const matching = ifExists === 'keep' && (await twins(client, err, checked, call));
    if (matching) return policy.waitStarted ? await waitUntilStarted(client, op, matching, policy, call) : matching;
    if (!rollback) throw err;
    const after = await client.listMims(own).catch(() => undefined);
    if (!after) throw err;
    throw withRollback(err, ...(await removeMims(client, ownAfterFailure(err, deploy, after, beforeIds), own)));
  }
}

/**
 * After a failed deploy, the running mims of these specs when every one is there and matches:
 * a twin call deployed them. Undefined when the failure was not an answer, or they are not all there.
 */
async function twins(client: McmClient, err: unknown, specs: MimSpec[], call?: CallOptions): Promise<Mim[] | undefined> {
  if (!(err instanceof McmError) || err.code !== 'http') return undefined;
  const running = await client.listMims(call).catch(() => [] as Mim[]);
  const matching = specs.map((spec) => running.find((m) => m.name === spec.name && matches(m, spec)));
  return matching.every((m): m is Mim => !!m) ? matching : undefined;
}

/**
 * Which listed mims a composition that failed (an error answer, or none) created itself. A mim
 * of one of its names that was not running before and matches its spec may be its own. But a
 * 409, or every one of its names listed now, looks like another call's duplicate: then none is
 * taken for its own, because runtimes answer duplicates with 400 or 500 too, and another
 * call's mims are never removed.
 */
function ownAfterFailure(err: McmError, deploy: MimSpec[], after: Mim[], beforeIds: Set<string>): Mim[] {
  const taken = err.statusCode === 409 || deploy.every((spec) => after.some((m) => m.name === spec.name));
  if (taken) return [];
  return deploy
    .map((spec) => after.find((m) => m.name === spec.name && !beforeIds.has(m.id) && matches(m, spec)))
    .filter((m): m is Mim => !!m);
}

/** Removes the mims this call created; says which went and which could not be removed. */
async function removeMims(client: McmClient, created: Mim[], own: CallOptions): Promise<[string[], string[]]> {
  const removed: string[] = [];
  const left: string[] = [];
  for (const mim of created) {
    try {
      await client.removeMim(mim.id, own);
      removed.push(mim.id);
    } catch {
      left.push(mim.id);
    }
  }
  return [removed, left];
}

/** Adds what was rolled back to the error's text, keeping its kind and status. */
function withRollback(err: McmError, removed: string[], left: string[]): McmError {
  // An McmError's fields are those of the McmErrorInit it was made from.
  return new McmError({ ...err, rolledBack: removed, rollbackFailed: left });
}

/**
 * The mims running now, listed for a deploy's decisions: a failure to list them is the deploy's
 * failure, named as the deploy (the person asked for a deploy, not for a list).
 */
async function runningMims(client: McmClient, op: McmOperation, call?: CallOptions): Promise<Mim[]> {
  try {
    return await client.listMims(call);
  } catch (err) {
    throw err instanceof McmError ? new McmError({ ...err, operation: op }) : err;
  }
}

/** Polls the list until every mim is `started`; fails with the mims still waiting, by name and state. */
export async function waitUntilStarted(
  client: McmClient,
  op: McmOperation,
  mims: Mim[],
  policy: DeployPolicy,
  call?: CallOptions,
): Promise<Mim[]> {
  const timeoutMs = policy.waitTimeoutMs ?? ACTION_DEFAULTS.waitTimeout * 1000;
  const pollMs = policy.pollMs ?? CLIENT_DEFAULTS.startedPollMs;
  const deadline = Date.now() + timeoutMs;
  let current = mims;
  for (;;) {
    const waiting = current.filter((m) => m.state !== 'started');
    policy.onWaiting?.(current.length - waiting.length, current.length);
    if (waiting.length === 0) return current;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new McmError({
        operation: op,
        code: 'not-started',
        params: { seconds: Math.round(timeoutMs / 1000), mims: waiting.map((m) => `${m.id} (${m.state || 'unknown'})`).join(', ') },
      });
    }
    await delay(op, Math.min(pollMs, remaining), call?.signal);
    const listed = new Map((await runningMims(client, op, call)).map((m) => [m.id, m]));
    current = current.map((m) => listed.get(m.id) ?? { ...m, state: 'missing' });
  }
}
