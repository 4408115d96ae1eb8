/**
 * Upload worker: one image tar upload through a Node-RED flow, measured; `warmups` unmeasured
 * uploads of the same file go first (a long-running Node-RED has compiled its upload path).
 *   mode "node": this package's mimoe-upload node with the file path set in the node.
 *   mode "diy":  core `file in` (whole file as one Buffer) -> `function` (multipart payload)
 *                -> core `http request` (POST, multipart/form-data), the do-it-yourself flow.
 *   mode "bare": no Node-RED flow, no axios, no streams: node:http's request written in 512 KiB
 *                file reads, the next read under way while one is written. The least a Node
 *                client can do, for the share of the node's time that is Node's own.
 */
import { open } from 'node:fs/promises';
import http from 'node:http';
import { first, httpRequestNode, loadBenchFlow, node } from './flow';
import { Meter, runWorker, workerConfig, WorkerResult } from './meter';

interface Config {
  mode: 'node' | 'diy' | 'bare';
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

/** One multipart upload of the file by node:http alone; resolves with the answer's status and body. */
async function bareUpload(cfg: Config): Promise<{ status: number; body: string }> {
  const boundary = 'bench-bare-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="image.tar"\r\nContent-Type: application/x-tar\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const file = await open(cfg.file, 'r');
  try {
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${cfg.url}/mcm/v1/images`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${cfg.key}`,
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': head.length + cfg.size + tail.length,
        },
      });
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.once('error', reject);
      });
      req.write(head);
      void (async () => {
        // Two buffers: one being written while the next is read.
        const buffers = [Buffer.allocUnsafeSlow(512 * 1024), Buffer.allocUnsafeSlow(512 * 1024)];
        let reading = file.read(buffers[0], 0, buffers[0].length, 0);
        for (let position = 0, turn = 0; ; turn++) {
          const { bytesRead, buffer } = await reading;
          if (bytesRead === 0) break;
          position += bytesRead;
          const next = buffers[(turn + 1) % 2];
          reading = file.read(next, 0, next.length, position);
          if (!req.write(buffer.subarray(0, bytesRead))) await new Promise((resume) => req.once('drain', resume));
        }
        req.end(tail);
      })().catch((err: unknown) => req.destroy(err as Error));
    });
    return await answer;
  } finally {
    await file.close();
  }
}

async function main(): Promise<WorkerResult> {
  const cfg = workerConfig<Config>();
  if (cfg.mode === 'bare') {
    const meter = new Meter();
    await meter.settle();
    meter.start();
    const answer = await bareUpload(cfg).catch((err: Error) => ({ status: 0, body: err.message }));
    const figures = meter.stop();
    const error = answer.status === 201 ? undefined : `HTTP ${answer.status}: ${answer.body.slice(0, 200)}`;
    return { ok: !error, error, count: error ? 0 : 1, ...figures };
  }
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
