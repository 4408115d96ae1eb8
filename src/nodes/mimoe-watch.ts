/**
 * mimoe-watch: polls the runtime and emits one msg per change (a mim or image added, removed,
 * or changed), with the item before and after. The first poll only learns what is there. While
 * the runtime is unreachable it backs off, says so in its status, and resumes by itself; what
 * changed meanwhile is reported on the first poll after. Each change in the kind of failure
 * (unreachable, then a 403 when the runtime comes back with another key) reaches Catch and the
 * log once; the status is sent only when it changes (each one goes to every open editor). The
 * config lookup, failure texts, msg.statusCode and status light are the action nodes' own.
 */
import type { Node } from 'node-red';
import { McmClient } from '../mcm/client';
import { WATCH_DEFAULTS } from '../mcm/defaults';
import { McmError } from '../mcm/errors';
import { upgradeConfig, versionSetting } from './shared/config-version';
import { describeFailure, NodeFailure, setStatusCode } from './shared/errors';
import { Msg, NodeConfig, RED } from './shared/runtime';
import { serverClient } from './shared/server';
import { StatusLight } from './shared/status';

type Resource = 'mim' | 'image';
type Item = { id: string; [field: string]: unknown };
type WatchEvent = 'added' | 'removed' | 'changed';

/** Fields whose change is worth a msg; timestamps that tick by themselves are not. */
const WATCHED_FIELDS: Record<Resource, string[]> = {
  mim: ['name', 'image', 'imageId', 'state', 'status', 'env'],
  image: ['name', 'digest', 'repoTags', 'size'],
};
const MAX_BACKOFF_MS = 5 * 60_000;
/** Failures that all mean "the runtime does not answer": one kind, however they alternate. */
const UNREACHABLE_CODES = ['unreachable', 'connection', 'timeout'];

function changed(resource: Resource, before: Item, after: Item): boolean {
  return WATCHED_FIELDS[resource].some((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}

/** What a failure is, for telling a new problem from the same one again: `unreachable`, `http 403`, `tls`... */
function failureKind(err: unknown): string {
  if (!(err instanceof McmError)) return 'error';
  if (UNREACHABLE_CODES.includes(err.code)) return 'unreachable';
  return err.code === 'http' ? `http ${err.statusCode}` : err.code;
}

function diff(resource: Resource, before: Map<string, Item>, after: Map<string, Item>) {
  const events: Array<{ event: WatchEvent; resource: Resource; id: string; before: Item | null; after: Item | null }> = [];
  for (const [id, item] of after) {
    const old = before.get(id);
    if (!old) events.push({ event: 'added', resource, id, before: null, after: item });
    else if (changed(resource, old, item)) events.push({ event: 'changed', resource, id, before: old, after: item });
  }
  for (const [id, item] of before) if (!after.has(id)) events.push({ event: 'removed', resource, id, before: item, after: null });
  return events;
}

export = function (RED: RED) {
  function MimoeWatch(this: Node, saved: NodeConfig) {
    RED.nodes.createNode(this, saved);
    const node = this;
    const config = upgradeConfig(RED, node, saved);
    const resources: Resource[] = config.resource === 'both' ? ['mim', 'image'] : [config.resource === 'image' ? 'image' : 'mim'];
    // A blank, negative or non-number interval polls at the default, never as fast as it can.
    const seconds = Number(config.interval);
    const intervalMs = Math.max(0.1, seconds > 0 ? seconds : WATCH_DEFAULTS.interval) * 1000;
    const known = new Map<Resource, Map<string, Item>>();
    const controller = new AbortController();
    const status = new StatusLight(node);
    let timer: NodeJS.Timeout | undefined;
    let failures = 0;
    /** The kind of the failure last reported; undefined while polls succeed. */
    let failing: string | undefined;
    let changes = 0;

    /** To Catch nodes, else the log; msg.statusCode for HTTP failures, as the other nodes set it. */
    const report = (failure: NodeFailure) => {
      const msg = { topic: 'error' };
      setStatusCode(msg, failure);
      node.error(failure.error, msg as Msg);
    };

    const list = (client: McmClient, resource: Resource): Promise<Item[]> =>
      resource === 'image' ? client.listImages({ signal: controller.signal }) : client.listMims({ signal: controller.signal });

    async function poll(): Promise<void> {
      let client: McmClient;
      try {
        client = serverClient(RED, config);
      } catch (err) {
        // Nothing to poll until the config is fixed (and redeployed): said once, to Catch or the log.
        const failure = describeFailure(RED, err);
        status.show('red', failure.status);
        report(failure);
        return;
      }
      try {
        for (const resource of resources) {
          const current = new Map((await list(client, resource)).map((item) => [item.id, item]));
          const previous = known.get(resource);
          known.set(resource, current);
          if (!previous) continue;
          for (const change of diff(resource, previous, current)) {
            changes++;
            // A copy: a downstream node that edits msg.payload must not change what the next poll compares.
            node.send({ topic: `${change.resource}/${change.event}`, payload: RED.util.cloneMessage(change) } as Msg);
          }
        }
        failures = 0;
        failing = undefined;
        status.show('green', changes ? RED._('mimoe-watch.status.changes', { count: changes }) : RED._('mimoe-watch.status.watching'));
        schedule(intervalMs);
      } catch (err) {
        if (controller.signal.aborted) return;
        failures++;
        const wait = Math.min(MAX_BACKOFF_MS, intervalMs * 2 ** Math.min(failures, 10));
        const failure = describeFailure(RED, err);
        const seconds = Math.round(wait / 1000);
        const kind = failureKind(err);
        status.show(
          'red',
          kind === 'unreachable'
            ? RED._('mimoe-watch.status.unreachable', { seconds })
            : `${failure.status}, ${RED._('mimoe-watch.status.retrying', { seconds })}`,
        );
        // Once per kind of failure, not on every retry.
        if (kind !== failing) report(failure);
        failing = kind;
        schedule(wait);
      }
    }

    function schedule(ms: number): void {
      if (!controller.signal.aborted) timer = setTimeout(() => void poll(), ms);
    }

    status.show('blue', RED._('mimoe-watch.status.working'));
    timer = setTimeout(() => void poll(), 0);

    node.on('close', (_removed: boolean, done: () => void) => {
      controller.abort();
      clearTimeout(timer);
      status.stop();
      done();
    });
  }
  RED.nodes.registerType('mimoe-watch', MimoeWatch, versionSetting('mimoe-watch'));
};
