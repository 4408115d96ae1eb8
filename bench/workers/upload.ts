/**
 * Upload worker: one image tar upload through a Node-RED flow, measured; `warmups` unmeasured
 * uploads of the same file go first (a long-running Node-RED has compiled its upload path).
 *   mode "node": this package's mimoe-upload node with the file path set in the node.
 *   mode "diy":  core `file in` (whole file as one Buffer) -> `function` (multipart payload)
 *                -> core `http request` (POST, multipart/form-data), the do-it-yourself flow.
 */
import { first, httpRequestNode, loadBenchFlow, node } from './flow';
import { Meter, runWorker, workerConfig, WorkerResult } from './meter';

interface Config {
  mode: 'node' | 'diy';
  url: string;
  key: string;
  file: string;
  size: number;
  timeoutMs: number;
  /** Unmeasured uploads before the measured one. */
  warmups?: number;
}

const DIY_FUNCTION = `
msg.headers = { 'content-type': 'multipart/form-data' };
msg.payload = { image: { value: msg.payload, options: { filename: 'image.tar', contentType: 'application/x-tar' } } };
return msg;
`;

async function main(): Promise<WorkerResult> {
  const cfg = workerConfig<Config>();
  const catcher = { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] };
  let trigger: string;
  if (cfg.mode === 'node') {
    await loadBenchFlow(
      [
        { id: 'cfg', type: 'mimoe-config', name: 'sim', url: cfg.url, timeout: Math.ceil(cfg.timeoutMs / 1000) },
        { id: 'up', type: 'mimoe-upload', server: 'cfg', filename: cfg.file, filenameType: 'str', wires: [['out']] },
        { id: 'out', type: 'helper' },
        catcher,
        { id: 'caught', type: 'helper' },
      ],
      { cfg: { token: cfg.key } },
    );
    trigger = 'up';
  } else {
    await loadBenchFlow(
      [
        {
          id: 'in',
          type: 'file in',
          filename: cfg.file,
          filenameType: 'str',
          format: '',
          chunk: false,
          sendError: false,
          encoding: 'none',
          allProps: false,
          wires: [['fn']],
        },
        {
          id: 'fn',
          type: 'function',
          func: DIY_FUNCTION,
          outputs: 1,
          timeout: 0,
          noerr: 0,
          initialize: '',
          finalize: '',
          libs: [],
          wires: [['req']],
        },
        httpRequestNode('req', cfg, { method: 'POST', path: '/images', ret: 'txt', persist: false, wires: [['out']] }),
        { id: 'out', type: 'helper' },
        catcher,
        { id: 'caught', type: 'helper' },
      ],
      {},
      ['file in', 'function', 'http request'],
    );
    trigger = 'in';
  }

  // got's whole-request timeout is 120 s by default; a slow machine must not trip it.
  const upload = () => {
    const done = first(['out', 'caught'], cfg.timeoutMs);
    node(trigger).receive({ requestTimeout: cfg.timeoutMs });
    return done;
  };
  for (let i = 0; i < (cfg.warmups ?? 0); i++) {
    const warm = await upload();
    if (warm.id === 'caught') throw new Error(`warm-up upload failed: ${String((warm.msg.error as { message?: string })?.message)}`);
  }
  const meter = new Meter();
  await meter.settle();
  meter.start();
  const { id, msg } = await upload();
  const figures = meter.stop();

  let error: string | undefined;
  if (id === 'caught') error = String((msg.error as { message?: string })?.message ?? msg.error);
  else if (cfg.mode === 'diy' && msg.statusCode !== 201) error = `HTTP ${String(msg.statusCode)}: ${String(msg.payload).slice(0, 200)}`;
  else if (cfg.mode === 'node' && (msg.payload as { size?: number })?.size !== cfg.size)
    error = `uploaded image has size ${String((msg.payload as { size?: number })?.size)}, expected ${cfg.size}`;
  return { ok: !error, error, count: error ? 0 : 1, ...figures };
}

runWorker(main);
