/**
 * List worker: `total` GET /mcm/v1/mims at `concurrency` in flight, after `warmup` unmeasured ones.
 *   mode "node":  msgs into this package's mimoe-list node (config concurrency = the same N).
 *   mode "core":  msgs into the core `http request` node (GET, keep-alive, parsed JSON).
 *   mode "axios": a plain loop, N workers sharing one keep-alive axios instance; no Node-RED.
 * helperSpies: false removes node-red-node-test-helper's Sinon spies first (a diagnostic run).
 */
import { Meter, runWorker, workerConfig, WorkerResult } from './meter';

interface Config {
  mode: 'node' | 'core' | 'axios';
  url: string;
  key: string;
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

async function axiosLoop(cfg: Config): Promise<(n: number) => Promise<Counts>> {
  const { default: axios } = await import('axios');
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.concurrency });
  const client = axios.create({
    baseURL: `${cfg.url}/mcm/v1`,
    httpAgent: agent,
    proxy: false,
    headers: { Authorization: `Bearer ${cfg.key}`, Accept: 'application/json' },
  });
  return async (n) => {
    const counts: Counts = { ok: 0, failed: 0 };
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next += 1;
        try {
          const res = await client.get<{ data: unknown[] }>('/mims');
          if (!Array.isArray(res.data?.data)) throw new Error('not a list');
          counts.ok += 1;
        } catch (err) {
          counts.failed += 1;
          counts.firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: cfg.concurrency }, worker));
    return counts;
  };
}

async function flowLoop(cfg: Config): Promise<(n: number) => Promise<Counts>> {
  const { dropHelperSpies, httpRequestNode, loadBenchFlow, pump } = await import('./flow');
  const catcher = { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] };
  if (cfg.mode === 'node') {
    await loadBenchFlow(
      [
        { id: 'cfg', type: 'mimoe-config', name: 'sim', url: cfg.url, timeout: 30, concurrency: cfg.concurrency },
        { id: 'list', type: 'mimoe-list', server: 'cfg', resource: 'mim', wires: [['out']] },
        { id: 'out', type: 'helper' },
        catcher,
        { id: 'caught', type: 'helper' },
      ],
      { cfg: { token: cfg.key } },
    );
  } else {
    await loadBenchFlow(
      [
        httpRequestNode('list', cfg, { method: 'GET', path: '/mims', ret: 'obj', persist: true, wires: [['out']] }),
        { id: 'out', type: 'helper' },
        catcher,
        { id: 'caught', type: 'helper' },
      ],
      {},
      ['http request'],
    );
  }
  if (cfg.helperSpies === false) dropHelperSpies();
  const check =
    cfg.mode === 'node'
      ? (msg: Record<string, unknown>) => (Array.isArray(msg.payload) ? undefined : 'payload is not a list')
      : (msg: Record<string, unknown>) =>
          msg.statusCode === 200 && Array.isArray((msg.payload as { data?: unknown })?.data) ? undefined : `HTTP ${String(msg.statusCode)}`;
  return (n) => pump('list', (i) => ({ topic: `list-${i}` }), n, cfg.concurrency, check);
}

async function main(): Promise<WorkerResult> {
  const cfg = workerConfig<Config>();
  const run = cfg.mode === 'axios' ? await axiosLoop(cfg) : await flowLoop(cfg);
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
