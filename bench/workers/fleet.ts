/**
 * Fleet worker: one image tar uploaded to every device of a simulated fleet, then a mim deployed
 * from it on every device, through this package's nodes in a helper flow.
 *   mode "rollout": a mimoe-fleet (discovered through Insight on the first device) and two
 *                   mimoe-rollout nodes, upload then deploy, `parallel` devices at a time.
 *   mode "nodes":   the same work one device after another with the single-device nodes: a
 *                   mimoe-config, a mimoe-upload and a mimoe-deploy per device, chained.
 */
import { first, loadBenchFlow, node } from './flow';
import { Meter, runWorker, workerConfig, WorkerResult } from './meter';

interface Config {
  mode: 'rollout' | 'nodes';
  urls: string[];
  key: string;
  file: string;
  /** The image name inside the tar. */
  image: string;
  size: number;
  parallel: number;
  timeoutMs: number;
}

type Msg = Record<string, unknown>;
const catcher = [
  { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper' },
];

async function loadRollout(cfg: Config): Promise<void> {
  const rollout = { type: 'mimoe-rollout', fleet: 'fleet', canary: 0, parallel: cfg.parallel, maxFailures: 0 };
  await loadBenchFlow(
    [
      {
        id: 'fleet',
        type: 'mimoe-fleet',
        name: 'bench',
        members: [],
        discover: true,
        seedUrl: cfg.urls[0],
        includeSeed: true,
        timeout: Math.ceil(cfg.timeoutMs / 1000),
        concurrency: 4,
      },
      { id: 'start', ...rollout, operation: 'upload', filename: cfg.file, filenameType: 'str', wires: [['deploy', 'uploaded']] },
      { id: 'deploy', ...rollout, operation: 'deploy', mimName: 'bench', image: cfg.image, wires: [['out']] },
      { id: 'uploaded', type: 'helper' },
      { id: 'out', type: 'helper' },
      ...catcher,
    ],
    { fleet: { token: cfg.key } },
  );
}

async function loadChain(cfg: Config): Promise<void> {
  const nodes: Msg[] = cfg.urls.flatMap((url, i) => {
    const next = i + 1 < cfg.urls.length ? `up-${i + 1}` : 'out';
    return [
      { id: `cfg-${i}`, type: 'mimoe-config', name: `device ${i + 1}`, url, timeout: Math.ceil(cfg.timeoutMs / 1000) },
      { id: `up-${i}`, type: 'mimoe-upload', server: `cfg-${i}`, filename: cfg.file, filenameType: 'str', wires: [[`deploy-${i}`]] },
      { id: `deploy-${i}`, type: 'mimoe-deploy', server: `cfg-${i}`, mimName: 'bench', image: cfg.image, wires: [[next]] },
    ];
  });
  const credentials = Object.fromEntries(cfg.urls.map((_url, i) => [`cfg-${i}`, { token: cfg.key }]));
  await loadBenchFlow([...nodes, { id: 'out', type: 'helper' }, ...catcher], credentials);
}

async function main(): Promise<WorkerResult> {
  const cfg = workerConfig<Config>();
  if (cfg.mode === 'rollout') await loadRollout(cfg);
  else await loadChain(cfg);
  const meter = new Meter();
  await meter.settle();
  const uploaded: Msg[] = [];
  if (cfg.mode === 'rollout') node('uploaded').on('input', (msg: Msg) => uploaded.push(msg));
  const done = first(['out', 'caught'], cfg.timeoutMs);
  meter.start();
  node(cfg.mode === 'rollout' ? 'start' : 'up-0').receive({ payload: 'go' });
  const { id, msg } = await done;
  const figures = meter.stop();

  const devices = cfg.urls.length;
  let error: string | undefined;
  if (id === 'caught') error = String((msg.error as { message?: string })?.message ?? msg.error);
  else if (cfg.mode === 'rollout') {
    const upload = uploaded[0]?.payload as { succeeded?: number } | undefined;
    const deploy = msg.payload as { succeeded?: number };
    if (upload?.succeeded !== devices || deploy.succeeded !== devices)
      error = `uploaded to ${upload?.succeeded} and deployed on ${deploy.succeeded} of ${devices} devices`;
  } else if ((msg.payload as { name?: string })?.name !== 'bench') error = 'the last device did not send its deployed mim';
  return { ok: !error, error, count: error ? 0 : devices, ...figures };
}

runWorker(main);
