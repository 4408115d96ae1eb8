/**
 * Msgs worker: `total` list or deploy calls at `concurrency` in flight, after `warmup` unmeasured
 * ones, made by one contender:
 *   mode "axios":  a plain loop, N workers sharing one keep-alive axios instance; no Node-RED.
 *   mode "client": the same loop calling this package's McmClient (listMims, deployMim); no Node-RED.
 *   mode "node":   msgs into this package's mimoe-list or mimoe-deploy node (config concurrency N).
 *   mode "core":   msgs into the core `http request` node (GET, keep-alive, parsed JSON); list only.
 *   mode "stub":   the mimoe node, its config node's client replaced by one that answers from
 *                  memory at once: Node-RED's routing plus the package's node code, no HTTP.
 *   mode "pass":   a pass-through node (send the msg on, done) in the same flow shape: Node-RED's
 *                  own routing, and node-red-node-test-helper's spies, alone.
 * helperSpies: false removes node-red-node-test-helper's Sinon spies first (a diagnostic run).
 * Deployed names are `${prefix}${n}`, n counting up from 0 across the warm-up and the measured calls.
 */
import { Meter, runWorker, workerConfig, WorkerResult } from './meter';

type Msg = Record<string, unknown>;

interface Config {
  operation: 'list' | 'deploy';
  mode: 'axios' | 'client' | 'node' | 'core' | 'stub' | 'pass';
  url: string;
  key: string;
  /** The image deploys name. */
  image: string;
  prefix: string;
  total: number;
  concurrency: number;
  warmup: number;
  /** false: remove node-red-node-test-helper's Sinon spies after loading (diagnostic). Default true. */
  helperSpies?: boolean;
}

interface Counts {
  ok: number;
  failed: number;
  firstError?: string;
}

/** N workers calling `call` until `n` calls were made. */
function loop(concurrency: number, call: () => Promise<void>): (n: number) => Promise<Counts> {
  return async (n) => {
    const counts: Counts = { ok: 0, failed: 0 };
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next += 1;
        try {
          await call();
          counts.ok += 1;
        } catch (err) {
          counts.failed += 1;
          counts.firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return counts;
  };
}

async function axiosLoop(cfg: Config, name: () => string): Promise<(n: number) => Promise<Counts>> {
  const { default: axios } = await import('axios');
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.concurrency });
  const client = axios.create({
    baseURL: `${cfg.url}/mcm/v1`,
    httpAgent: agent,
    proxy: false,
    headers: { Authorization: `Bearer ${cfg.key}`, Accept: 'application/json' },
  });
  if (cfg.operation === 'deploy') {
    return loop(cfg.concurrency, async () => {
      const res = await client.post<{ name?: string }>('/mims', { name: name(), image: cfg.image });
      if (res.status !== 201 || typeof res.data?.name !== 'string') throw new Error(`HTTP ${res.status}`);
    });
  }
  return loop(cfg.concurrency, async () => {
    const res = await client.get<{ data: unknown[] }>('/mims');
    if (!Array.isArray(res.data?.data)) throw new Error('not a list');
  });
}

async function clientLoop(cfg: Config, name: () => string): Promise<(n: number) => Promise<Counts>> {
  const { McmClient } = await import('../../src/mcm/client');
  const client = new McmClient({ url: cfg.url, token: cfg.key, timeoutMs: 30_000, maxConcurrent: cfg.concurrency });
  if (cfg.operation === 'deploy') {
    return loop(cfg.concurrency, async () => {
      const mim = await client.deployMim(name(), cfg.image);
      if (!mim.id) throw new Error('no mim');
    });
  }
  return loop(cfg.concurrency, async () => {
    const mims = await client.listMims();
    if (!Array.isArray(mims)) throw new Error('not a list');
  });
}

/** A client that answers from memory, at once: what the node does without HTTP. */
async function stubClient(cfg: Config): Promise<object> {
  const { McmClient } = await import('../../src/mcm/client');
  const { normalizeMim } = await import('../../src/mcm/models');
  const real = new McmClient({ url: cfg.url, token: cfg.key });
  const listed = await real.listMims();
  real.close();
  return {
    listMims: async () => listed,
    listImages: async () => [],
    deployMim: async (name: string, image: string, env?: Record<string, string>) =>
      normalizeMim({ id: `${name}-stub`, name, image, state: 'started', env: env ?? {} }),
    close: () => undefined,
  };
}

async function flowLoop(cfg: Config): Promise<(n: number) => Promise<Counts>> {
  const { dropHelperSpies, httpRequestNode, loadBenchFlow, node, passThroughModule, pump } = await import('./flow');
  const catcher = { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] };
  const tail = [{ id: 'out', type: 'helper' }, catcher, { id: 'caught', type: 'helper' }];
  const deploy = cfg.operation === 'deploy';
  if (cfg.mode === 'core') {
    const request = { method: 'GET', path: '/mims', ret: 'obj', persist: true, wires: [['out']] };
    await loadBenchFlow([httpRequestNode('n1', cfg, request), ...tail], {}, ['http request']);
  } else if (cfg.mode === 'pass') {
    await loadBenchFlow([{ id: 'n1', type: 'bench-pass', wires: [['out']] }, ...tail], {}, [], [passThroughModule]);
  } else {
    const mimoe = deploy
      ? { id: 'n1', type: 'mimoe-deploy', server: 'cfg', ifExists: 'fail', waitStarted: false, wires: [['out']] }
      : { id: 'n1', type: 'mimoe-list', server: 'cfg', resource: 'mim', wires: [['out']] };
    await loadBenchFlow(
      [{ id: 'cfg', type: 'mimoe-config', name: 'bench', url: cfg.url, timeout: 30, concurrency: cfg.concurrency }, mimoe, ...tail],
      { cfg: { token: cfg.key } },
    );
    if (cfg.mode === 'stub') {
      const config = node('cfg') as unknown as { client: { close(): void } };
      config.client.close();
      config.client = (await stubClient(cfg)) as never;
    }
  }
  if (cfg.helperSpies === false) dropHelperSpies();
  let check: (msg: Msg) => string | undefined;
  if (cfg.mode === 'pass') check = () => undefined;
  else if (cfg.mode === 'core')
    check = (msg) => (msg.statusCode === 200 && Array.isArray((msg.payload as Msg)?.data) ? undefined : `HTTP ${String(msg.statusCode)}`);
  else if (deploy) check = (msg) => ((msg.payload as { id?: string })?.id ? undefined : 'no mim in msg.payload');
  else check = (msg) => (Array.isArray(msg.payload) ? undefined : 'payload is not a list');
  let named = 0;
  const makeMsg = deploy
    ? () => ({ payload: { name: `${cfg.prefix}${named++}`, image: cfg.image } })
    : (i: number) => ({ topic: `list-${i}` });
  return (n) => pump('n1', makeMsg, n, cfg.concurrency, check);
}

async function main(): Promise<WorkerResult> {
  const cfg = workerConfig<Config>();
  let named = 0;
  const name = () => `${cfg.prefix}${named++}`;
  let run: (n: number) => Promise<Counts>;
  if (cfg.mode === 'axios') run = await axiosLoop(cfg, name);
  else if (cfg.mode === 'client') run = await clientLoop(cfg, name);
  else run = await flowLoop(cfg);
  if (cfg.warmup > 0) {
    const warm = await run(cfg.warmup);
    if (warm.failed) throw new Error(`warm-up failed: ${warm.firstError}`);
  }
  const meter = new Meter();
  await meter.settle();
  meter.start();
  const counts = await run(cfg.total);
  const figures = meter.stop();
  const ok = counts.ok === cfg.total && counts.failed === 0;
  return {
    ok,
    error: ok ? undefined : `${counts.failed} of ${cfg.total} failed: ${counts.firstError}`,
    count: counts.ok,
    failed: counts.failed,
    ...figures,
  };
}

runWorker(main);
