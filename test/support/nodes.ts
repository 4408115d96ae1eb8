/**
 * Loads this package's nodes into node-red-node-test-helper with their real message catalogs:
 * the helper's stand-in `RED._` returns keys, and tests must read the texts users see.
 */
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import type { McmSimulator } from '../../src/simulator';

/** The node-red under test: NODE_RED_PATH (a node-red package folder) or this project's own. */
const nodeRedMain = require.resolve(process.env.NODE_RED_PATH ?? 'node-red');
const fromNodeRed = (id: string) => require.resolve(id, { paths: [path.dirname(nodeRedMain)] });

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { i18n } = require(fromNodeRed('@node-red/util')) as {
  i18n: {
    init(s: object): void;
    registerMessageCatalog(ns: string, dir: string, file: string): Promise<void>;
    _: (key: string, params?: object) => string;
  };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../../package.json') as { name: string; 'node-red': { nodes: Record<string, string> } };

helper.init(nodeRedMain);

const root = path.join(__dirname, '..', '..', '..');
export const NODE_TYPES = Object.keys(pkg['node-red'].nodes);

let catalogs: Promise<unknown> | undefined;

function loadCatalogs(): Promise<unknown> {
  i18n.init({ lang: 'en-US' });
  return Promise.all(
    NODE_TYPES.map((type) => {
      const file = path.join(root, pkg['node-red'].nodes[type]);
      return i18n.registerMessageCatalog(`${pkg.name}/${type}`, path.join(path.dirname(file), 'locales'), `${type}.json`);
    }),
  );
}

type NodeModule = (red: Record<string, unknown>) => void;

/** The node modules, each given a RED whose `_` translates within its own catalog, as Node-RED does. */
export async function nodeModules(): Promise<NodeModule[]> {
  catalogs ??= loadCatalogs();
  await catalogs;
  return NODE_TYPES.map((type) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(root, pkg['node-red'].nodes[type])) as NodeModule;
    const namespace = `${pkg.name}/${type}`;
    const wrapped: NodeModule = (red) => {
      const withCatalog = Object.create(red) as Record<string, unknown>;
      withCatalog._ = (key: string, params?: object) => i18n._(key.includes(':') ? key : `${namespace}:${key}`, params);
      return mod(withCatalog);
    };
    return wrapped;
  });
}

export function configNode(sim: McmSimulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'cfg', type: 'mimoe-config', name: 'sim', url: sim.url, timeout: 5, ...extra };
}

export function credentials(sim: McmSimulator): Record<string, Record<string, string>> {
  return { cfg: { token: sim.key } };
}

/** Config node types: they stay off the tab, and Node-RED creates them before the nodes that use them. */
export const CONFIG_TYPES = ['mimoe-config', 'mimoe-fleet', 'tls-config', 'http proxy'];

/**
 * Loads a flow. Nodes with wires (or of a wired kind) are placed on one tab with coordinates,
 * as the editor would save them; without that Node-RED takes them for config nodes.
 */
export async function loadFlow(flow: Array<Record<string, unknown>>, creds?: object, coreNodes: string[] = []): Promise<void> {
  const placed = flow.map((n) => (CONFIG_TYPES.includes(n.type as string) ? n : { z: 'tab', x: 100, y: 100, ...n }));
  const coreDir = path.join(path.dirname(fromNodeRed('@node-red/nodes/package.json')), 'core');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const core = coreNodes.map((file) => require(path.join(coreDir, file)) as NodeModule);
  await helper.load(
    [...core, ...(await nodeModules())] as never,
    [{ id: 'tab', type: 'tab', label: 'test' }, ...placed] as never,
    creds ?? {},
  );
}

/** Core node files, for flows that need them. */
export const CORE = {
  tls: 'network/05-tls.js',
  inject: 'common/20-inject.js',
  change: 'function/15-change.js',
  file: 'storage/10-file.js',
  debug: 'common/21-debug.js',
};

/** Resolves with the next msg a helper node receives. */
export function nextMessage(id: string, timeoutMs = 8000): Promise<Record<string, any>> {
  const node = helper.getNode(id);
  if (!node) throw new Error(`no node ${id} in the flow`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no msg reached ${id} within ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg: Record<string, any>) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Collects every msg a helper node receives. */
export function collect(id: string): Array<Record<string, any>> {
  const received: Array<Record<string, any>> = [];
  helper.getNode(id).on('input', (msg: Record<string, any>) => received.push(msg));
  return received;
}

export { helper };

export interface Outcome {
  /** 'sent' when the node sent its msg on, 'caught' when a Catch node got the failure. */
  kind: 'sent' | 'caught';
  msg: Record<string, any>;
}

/**
 * A flow of one node under test (`n1`) with a helper on its output (`out`), a Catch (`caught`)
 * and a Complete (`completed`) scoped to it, and the config node pointing at the simulator.
 */
export async function loadActionFlow(
  sim: McmSimulator,
  node: Record<string, unknown>,
  configExtra: Record<string, unknown> = {},
  extraNodes: Array<Record<string, unknown>> = [],
  coreNodes: string[] = [],
): Promise<void> {
  await loadFlow(
    [
      ...extraNodes,
      configNode(sim, configExtra),
      { id: 'n1', server: 'cfg', wires: [['out'], ['progress']], ...node },
      { id: 'out', type: 'helper' },
      { id: 'progress', type: 'helper' },
      { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
      { id: 'complete', type: 'complete', scope: ['n1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ],
    credentials(sim),
    coreNodes,
  );
}

/**
 * A list node (`n1`) with a helper on its output (`out`) and a Catch (`caught`), its config node
 * pointing at the simulator with these settings and this key (none given: no credentials at all).
 */
export async function loadListFlow(sim: McmSimulator, config: Record<string, unknown> = {}, token?: string): Promise<void> {
  await loadFlow(
    [
      configNode(sim, config),
      { id: 'n1', type: 'mimoe-list', server: 'cfg', wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'catch', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ],
    token === undefined ? {} : { cfg: { token } },
  );
}

/** Sends a msg into n1 and resolves with what came out: its output or a Catch. */
export function run(msg: Record<string, unknown>, timeoutMs = 8000): Promise<Outcome> {
  const out = helper.getNode('out');
  const caught = helper.getNode('caught');
  return new Promise((resolve, reject) => {
    const finish = (outcome?: Outcome) => {
      clearTimeout(timer);
      out.off('input', onSent);
      caught.off('input', onCaught);
      if (outcome) resolve(outcome);
      else reject(new Error(`n1 neither sent nor failed within ${timeoutMs} ms`));
    };
    const onSent = (m: Record<string, any>) => finish({ kind: 'sent', msg: m });
    const onCaught = (m: Record<string, any>) => finish({ kind: 'caught', msg: m });
    const timer = setTimeout(() => finish(), timeoutMs);
    out.on('input', onSent);
    caught.on('input', onCaught);
    helper.getNode('n1').receive(msg);
  });
}

export interface StatusCall {
  fill?: string;
  shape?: string;
  text?: string;
}

/** Every status a node sets from now on (the helper spies on Node.status). */
export function statuses(id: string): StatusCall[] {
  const seen: StatusCall[] = [];
  const node = helper.getNode(id) as unknown as { on(event: string, cb: (call: { args: StatusCall[] }) => void): void };
  node.on('call:status', (call) => seen.push(call.args[0]));
  return seen;
}
