/**
 * Deploy worker, through this package's nodes in a helper flow (the image must be uploaded already):
 *   mode "composition": one mimoe-composition msg with `count` mim specs.
 *   mode "deploy":      `count` mimoe-deploy msgs (distinct names), all sent at once as a burst
 *                       would arrive; the config node's client queues them (concurrency N).
 */
import { loadBenchFlow, pump } from './flow';
import { Meter, runWorker, workerConfig, WorkerResult } from './meter';

interface Config {
  mode: 'composition' | 'deploy';
  url: string;
  key: string;
  image: string;
  count: number;
  concurrency: number;
  /** Names are `${prefix}${i}`. */
  prefix: string;
}

async function main(): Promise<WorkerResult> {
  const cfg = workerConfig<Config>();
  const type = cfg.mode === 'composition' ? 'mimoe-composition' : 'mimoe-deploy';
  await loadBenchFlow(
    [
      { id: 'cfg', type: 'mimoe-config', name: 'sim', url: cfg.url, timeout: 60, concurrency: cfg.concurrency },
      { id: 'n1', type, server: 'cfg', ifExists: 'fail', waitStarted: false, rollback: true, wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ],
    { cfg: { token: cfg.key } },
  );
  const spec = (i: number) => ({ name: `${cfg.prefix}${i}`, image: cfg.image });
  const meter = new Meter();
  await meter.settle();
  meter.start();
  let counts;
  if (cfg.mode === 'composition') {
    const specs = Array.from({ length: cfg.count }, (_, i) => spec(i));
    const check = (msg: Record<string, unknown>) =>
      Array.isArray(msg.payload) && msg.payload.length === cfg.count
        ? undefined
        : `expected ${cfg.count} mims, got ${JSON.stringify(msg.payload)?.slice(0, 100)}`;
    counts = await pump('n1', () => ({ payload: specs }), 1, 1, check);
  } else {
    const check = (msg: Record<string, unknown>) => ((msg.payload as { id?: string })?.id ? undefined : 'no mim in msg.payload');
    counts = await pump('n1', (i) => ({ payload: spec(i) }), cfg.count, Infinity, check);
  }
  const figures = meter.stop();
  const expected = cfg.mode === 'composition' ? 1 : cfg.count;
  const ok = counts.ok === expected && counts.failed === 0;
  return {
    ok,
    error: ok ? undefined : `${counts.failed} of ${expected} msgs failed: ${counts.firstError}`,
    count: cfg.mode === 'composition' ? cfg.count * counts.ok : counts.ok,
    failed: counts.failed,
    ...figures,
  };
}

runWorker(main);
