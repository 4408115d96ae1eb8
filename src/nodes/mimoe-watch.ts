/**
 * mimoe-watch: polls the runtime and emits one msg per change (a mim or image added, removed,
 * or changed), with the item before and after. The first poll only learns what is there. While
 * the runtime is unreachable it backs off, says so in its status, and resumes by itself; what
 * changed meanwhile is reported on the first poll after.
 */
import type { Node } from 'node-red';
import { McmClient } from '../mcm/client';
import { McmError } from '../mcm/errors';
import { describeFailure, shared } from './shared/errors';
import { MimoeConfigNode, Msg, NodeConfig, RED } from './shared/runtime';

type Resource = 'mim' | 'image';
type Item = { id: string; [field: string]: unknown };
type WatchEvent = 'added' | 'removed' | 'changed';

/** Fields whose change is worth a msg; timestamps that tick by themselves are not. */
const WATCHED_FIELDS: Record<Resource, string[]> = {
  mim: ['name', 'image', 'imageId', 'state', 'status', 'env'],
  image: ['name', 'digest', 'repoTags', 'size'],
};
const MAX_BACKOFF_MS = 5 * 60_000;

function changed(resource: Resource, before: Item, after: Item): boolean {
  return WATCHED_FIELDS[resource].some((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
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
  function MimoeWatch(this: Node, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const server = RED.nodes.getNode(config.server as string) as MimoeConfigNode | null;
    const resources: Resource[] = config.resource === 'both' ? ['mim', 'image'] : [config.resource === 'image' ? 'image' : 'mim'];
    const intervalMs = Math.max(0.1, Number(config.interval) || 10) * 1000;
    const known = new Map<Resource, Map<string, Item>>();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let failures = 0;
    let changes = 0;

    const list = (client: McmClient, resource: Resource): Promise<Item[]> =>
      resource === 'image' ? client.listImages({ signal: controller.signal }) : client.listMims({ signal: controller.signal });

    async function poll(): Promise<void> {
      const client = server?.client;
      if (!client) {
        node.status({ fill: 'red', shape: 'ring', text: shared(RED, 'status.error') });
        node.error(shared(RED, server ? 'errors.config-invalid' : 'errors.no-config', { reason: server?.problem ?? '' }));
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
        node.status({
          fill: 'green',
          shape: 'dot',
          text: changes ? RED._('mimoe-watch.status.changes', { count: changes }) : RED._('mimoe-watch.status.watching'),
        });
        schedule(intervalMs);
      } catch (err) {
        if (controller.signal.aborted) return;
        failures++;
        const wait = Math.min(MAX_BACKOFF_MS, intervalMs * 2 ** Math.min(failures, 10));
        const failure = describeFailure(RED, err);
        const seconds = Math.round(wait / 1000);
        const unreachable = err instanceof McmError && ['unreachable', 'connection', 'timeout'].includes(err.code);
        node.status({
          fill: 'red',
          shape: 'ring',
          text: unreachable
            ? RED._('mimoe-watch.status.unreachable', { seconds })
            : `${failure.status}, ${RED._('mimoe-watch.status.retrying', { seconds })}`,
        });
        // Once per outage, not on every retry: to the log and to Catch nodes.
        if (failures === 1) node.error(failure.error, { topic: 'error', payload: { statusCode: failure.statusCode } } as Msg);
        schedule(wait);
      }
    }

    function schedule(ms: number): void {
      if (!controller.signal.aborted) timer = setTimeout(() => void poll(), ms);
    }

    node.status({ fill: 'blue', shape: 'dot', text: RED._('mimoe-watch.status.working') });
    timer = setTimeout(() => void poll(), 0);

    node.on('close', (_removed: boolean, done: () => void) => {
      controller.abort();
      clearTimeout(timer);
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('mimoe-watch', MimoeWatch);
};
