/**
 * Node-RED flows for the workers: this package's nodes (with their real catalogs, as the tests
 * load them) plus whichever core nodes a flow needs, in node-red-node-test-helper.
 */
import path from 'node:path';
import type { Node } from 'node-red';
import { CONFIG_TYPES, helper, nodeModules } from '../../test/support/nodes';

type NodeModule = (red: Record<string, unknown>) => unknown;
type Msg = Record<string, unknown>;

/** Core node files a flow may need, from the node-red that the package tests against. */
const CORE_FILES = {
  'file in': 'storage/10-file.js',
  function: 'function/10-function.js',
  'http request': 'network/21-httprequest.js',
} as const;
export type CoreNode = keyof typeof CORE_FILES;

function coreModule(type: CoreNode): NodeModule {
  const nodesRoot = path.dirname(require.resolve('@node-red/nodes/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(nodesRoot, 'core', CORE_FILES[type])) as NodeModule;
}

/**
 * `bench-pass`: sends each msg on as it came and calls done, nothing else: a flow with it in the
 * place of a mimoe node costs what Node-RED's own routing costs.
 */
export const passThroughModule: NodeModule = (red) => {
  const RED = red as unknown as { nodes: { createNode(node: Node, config: object): void; registerType(type: string, fn: unknown): void } };
  function PassThrough(this: Node, config: object) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg: Msg, send: (msg: Msg) => void, done: () => void) => {
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('bench-pass', PassThrough);
};

/**
 * Loads a flow: every node but config nodes goes on one tab, as the editor saves them.
 * `core` lists the core node types the flow uses (catch/status/complete come with the helper),
 * `extra` node modules of the benchmark's own.
 */
export async function loadBenchFlow(flow: Msg[], credentials: object = {}, core: CoreNode[] = [], extra: NodeModule[] = []): Promise<void> {
  const placed = flow.map((n) => (CONFIG_TYPES.includes(n.type as string) ? n : { z: 'tab', x: 100, y: 100, ...n }));
  const modules = [...(await nodeModules()), ...core.map(coreModule), ...extra];
  await helper.load(modules as never, [{ id: 'tab', type: 'tab', label: 'bench' }, ...placed] as never, credentials);
}

/**
 * Removes the Sinon spies node-red-node-test-helper puts on every Node's send/status/log...: they
 * record every call (and keep its msg), which no real Node-RED does. For diagnostic runs only.
 */
export function dropHelperSpies(): void {
  (helper as unknown as { _sandbox: { restore(): void } })._sandbox.restore();
}

export function node(id: string): Node {
  const found = helper.getNode(id);
  if (!found) throw new Error(`no node ${id} in the flow`);
  return found;
}

/** Resolves with the first msg that reaches one of the ids, with the id that got it. */
export function first(ids: string[], timeoutMs: number): Promise<{ id: string; msg: Msg }> {
  return new Promise((resolve, reject) => {
    const listeners: Array<[Node, (msg: Msg) => void]> = [];
    const finish = (value?: { id: string; msg: Msg }) => {
      clearTimeout(timer);
      for (const [n, fn] of listeners) n.removeListener('input', fn);
      if (value) resolve(value);
      else reject(new Error(`no msg reached ${ids.join('/')} within ${timeoutMs} ms`));
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    for (const id of ids) {
      const fn = (msg: Msg) => finish({ id, msg });
      const n = node(id);
      n.on('input', fn);
      listeners.push([n, fn]);
    }
  });
}

export interface PumpResult {
  ok: number;
  failed: number;
  /** The first failure's text, if any. */
  firstError?: string;
}

/**
 * Sends `total` msgs into `target`, keeping at most `window` in flight (Infinity: all at once),
 * and counts what comes out of `out` (checked by `check`: a text when the msg is wrong) and `caught`.
 */
export function pump(
  target: string,
  makeMsg: (i: number) => Msg,
  total: number,
  window: number,
  check: (msg: Msg) => string | undefined = () => undefined,
  timeoutMs = 300_000,
): Promise<PumpResult> {
  return new Promise((resolve, reject) => {
    const into = node(target);
    const outNode = node('out');
    const caughtNode = node('caught');
    const result: PumpResult = { ok: 0, failed: 0 };
    let sent = 0;
    const next = () => {
      if (sent < total) into.receive(makeMsg(sent++));
    };
    const finishOne = () => {
      if (result.ok + result.failed === total) {
        clearTimeout(timer);
        outNode.removeListener('input', onOut);
        caughtNode.removeListener('input', onCaught);
        resolve(result);
      } else next();
    };
    const fail = (text: string) => {
      result.failed += 1;
      result.firstError ??= text;
    };
    const onOut = (msg: Msg) => {
      const problem = check(msg);
      if (problem) fail(problem);
      else result.ok += 1;
      finishOne();
    };
    const onCaught = (msg: Msg) => {
      fail(String((msg.error as { message?: string })?.message ?? msg.error));
      finishOne();
    };
    const timer = setTimeout(
      () => reject(new Error(`pump: ${result.ok + result.failed}/${total} msgs done after ${timeoutMs} ms`)),
      timeoutMs,
    );
    outNode.on('input', onOut);
    caughtNode.on('input', onCaught);
    const initial = Math.min(total, window);
    for (let i = 0; i < initial; i++) next();
  });
}

export async function unload(): Promise<void> {
  await helper.unload();
}

/** A core `http request` node calling the simulator with its key, the way a hand-wired flow would. */
export function httpRequestNode(
  id: string,
  cfg: { url: string; key: string },
  request: { method: string; path: string; ret: string; persist: boolean; wires: string[][] },
): Msg {
  return {
    id,
    type: 'http request',
    method: request.method,
    ret: request.ret,
    paytoqs: 'ignore',
    url: `${cfg.url}/mcm/v1${request.path}`,
    persist: request.persist,
    senderr: true,
    authType: '',
    headers: [{ keyType: 'other', keyValue: 'Authorization', valueType: 'other', valueValue: `Bearer ${cfg.key}` }],
    wires: request.wires,
  };
}
