/**
 * `npm run bench`: measures this package's nodes against their references, side by side in one
 * run, on 127.0.0.1, against two servers: the MCM simulator (the tests' oracle: it parses, hashes,
 * keeps state and logs, and so sets the pace for every contender) and the fast receiver
 * (bench/receiver.ts: lists and deploys answered from memory, uploads only counted, so the
 * contender's own cost sets the pace). Every contender runs in its own process (peak RSS is per
 * process), each server too; each is repeated BENCH_REPEAT times, interleaved, and the median kept.
 *
 *   1. Upload of an image tar (BENCH_UPLOAD_MIB, default 1024): curl -F (reference), the
 *      mimoe-upload node, core `file in` + `function` + `http request` (multipart), and a bare
 *      node:http write loop (what Node itself costs), to each server.
 *   2. BENCH_LIST_REQUESTS (5000) list msgs and as many deploy msgs, BENCH_CONCURRENCY (8) in
 *      flight: a plain axios loop (reference), McmClient alone, the mimoe-list / mimoe-deploy node,
 *      the core `http request` node (list), and for the cost of one msg the mimoe node with a client
 *      that answers from memory and a pass-through node in the same flow shape (Node-RED's routing).
 *   3. One mimoe-composition msg of BENCH_COMPOSITION_MIMS (100) mims, and BENCH_DEPLOY_MSGS
 *      (1000) mimoe-deploy msgs arriving at once.
 *   4. Fleets (BENCH_ONLY=fleet, not run by default): a BENCH_FLEET_MIB (64) MiB image uploaded to
 *      every device of a simulated fleet, then deployed on every device: two mimoe-rollout nodes,
 *      BENCH_FLEET_PARALLEL (16) devices at a time, at each size of BENCH_FLEET_SIZES (25,100), and
 *      the same work one device after another by mimoe-upload and mimoe-deploy, on the largest
 *      fleet or on BENCH_FLEET_SERIAL devices (one device's time is what the targets use: with a
 *      long answer delay, a few devices tell it as well as 100).
 *      BENCH_FLEET_DEVICE_MS (0) makes each device wait that long after an upload's last byte (a
 *      runtime unpacking the image), BENCH_FLEET_REPEAT (BENCH_REPEAT) the number of runs.
 *
 * Targets are printed as PASS/MISS; a miss never fails the run (a contender that errors does).
 * Other knobs: BENCH_LIST_WARMUP (200), BENCH_LIST_SEED_MIMS (20), BENCH_ONLY (upload,msgs,deploy; fleet),
 * BENCH_NODE_FLAGS (extra flags for the node workers, e.g. --cpu-prof), BENCH_PROFILE_DIR (a CPU
 * profile of each worker's measured work; bench/profile-summary.ts summarises them), BENCH_JSON (raw results).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { McmClient } from '../src/mcm/client';
import { buildImageTar, writeImageTar } from '../src/wire/image-tar';
import { curlUpload } from './lib/curl';
import { FleetProcess } from './lib/fleet';
import { cleanupNow, registerTempDir, removeTempDir, ROOT, runWorker } from './lib/processes';
import { machine, median, mib, ratio, secs, table, verdict } from './lib/report';
import { ReceiverProcess } from './lib/receiver';
import { SimulatorProcess } from './lib/simulator';
import { failedResult, type WorkerResult } from './workers/meter';

const WORKERS = join(__dirname, 'workers');
const SMALL_IMAGE = 'bench-small';
const UPLOAD_IMAGE = 'bench-upload';
/**
 * Uploads before the warm contender's measured one. V8 optimizes the write path again at every
 * upload (the maps and closures of one upload's request and streams die with it): traced with
 * --trace-opt (McmClient, 512 MiB, a plain Node process), the 3rd upload of a process compiled
 * 20-35 functions again, each later one 7-20.
 */
const WARM_UPLOADS = 3;
const FLEET_IMAGE = 'bench-fleet';

function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min} (got "${raw}")`);
  return n;
}

const settings = {
  uploadMiB: envInt('BENCH_UPLOAD_MIB', 1024),
  repeat: envInt('BENCH_REPEAT', 3),
  concurrency: envInt('BENCH_CONCURRENCY', 8),
  listRequests: envInt('BENCH_LIST_REQUESTS', 5000),
  listWarmup: envInt('BENCH_LIST_WARMUP', 200, 0),
  seedMims: envInt('BENCH_LIST_SEED_MIMS', 20, 0),
  compositionMims: envInt('BENCH_COMPOSITION_MIMS', 100),
  deployMsgs: envInt('BENCH_DEPLOY_MSGS', 1000),
  only: new Set((process.env.BENCH_ONLY ?? 'upload,msgs,deploy').split(',').map((s) => s.trim())),
  fleetMiB: envInt('BENCH_FLEET_MIB', 64),
  fleetSizes: (process.env.BENCH_FLEET_SIZES ?? '25,100').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_FLEET_SIZES must list whole numbers >= 1 (got "${s}")`);
    return n;
  }),
  fleetParallel: envInt('BENCH_FLEET_PARALLEL', 16),
  fleetDeviceMs: envInt('BENCH_FLEET_DEVICE_MS', 0, 0),
  fleetSerial: process.env.BENCH_FLEET_SERIAL ? envInt('BENCH_FLEET_SERIAL', 1) : undefined,
  fleetRepeat: envInt('BENCH_FLEET_REPEAT', envInt('BENCH_REPEAT', 3)),
};

const TARGETS = {
  uploadTimeVsCurl: 1.1,
  uploadGrowthMiB: 64,
  listVsAxios: 0.8,
  listVsCore: 1.5,
  /** The package's node code's share of one msg's CPU. */
  nodeCodeShare: 0.15,
  deployGrowthMiB: 64,
  fleetGrowthMiB: 128,
  /** A fleet 4x larger may cost at most this much more memory: growth must not follow the fleet's size. */
  fleetGrowthRatio: 1.25,
  /** Rollout time vs perfect parallelism of the single-device work. */
  fleetTimeFactor: 1.2,
};

interface Contender {
  key: string;
  label: string;
  run: () => Promise<WorkerResult>;
  results: WorkerResult[];
}

interface Summary {
  ok: boolean;
  runs: number;
  wallMs: number;
  minMs: number;
  maxMs: number;
  peakRss: number;
  rssGrowth: number;
  baselineRss: number;
  count: number;
  cpuMs: number;
  userMs: number;
  systemMs: number;
  simCpuMs: number;
  errors: string[];
}

function summarize(results: WorkerResult[]): Summary {
  const good = results.filter((r) => r.ok);
  const walls = good.map((r) => r.wallMs);
  return {
    ok: good.length > 0 && good.length === results.length,
    runs: good.length,
    wallMs: median(walls),
    minMs: Math.min(...walls),
    maxMs: Math.max(...walls),
    peakRss: median(good.map((r) => r.peakRss)),
    rssGrowth: median(good.map((r) => r.rssGrowth)),
    baselineRss: median(good.map((r) => r.baselineRss)),
    count: median(good.map((r) => r.count ?? 0)),
    cpuMs: median(good.map((r) => r.cpuMs ?? NaN).filter(Number.isFinite)),
    userMs: median(good.map((r) => r.userMs ?? NaN).filter(Number.isFinite)),
    systemMs: median(good.map((r) => r.systemMs ?? NaN).filter(Number.isFinite)),
    simCpuMs: median(good.map((r) => Number(r.extra?.simCpuMs ?? NaN)).filter(Number.isFinite)),
    errors: results.filter((r) => !r.ok).map((r) => r.error ?? 'failed'),
  };
}

const progress = (text: string): boolean => process.stderr.write(text);

/**
 * Runs every contender `repeat` times, interleaved, the order rotating each round, and measures
 * the CPU the server used meanwhile (result.extra.simCpuMs). Without a server, a contender
 * measures its own server's CPU.
 */
async function rounds(
  title: string,
  sim: { cpuMs(): number | undefined } | undefined,
  contenders: Contender[],
  before?: (c: Contender) => Promise<void>,
  after?: (c: Contender, r: WorkerResult) => Promise<void>,
  repeat = settings.repeat,
): Promise<void> {
  for (let round = 0; round < repeat; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const contender of order) {
      progress(`  ${title} ${round + 1}/${repeat} ${contender.label} ... `);
      await before?.(contender);
      let result: WorkerResult;
      const simCpu = sim?.cpuMs();
      try {
        result = await contender.run();
      } catch (err) {
        result = failedResult((err as Error).message);
      }
      const simCpuAfter = sim?.cpuMs();
      if (simCpu !== undefined && simCpuAfter !== undefined) result.extra = { ...result.extra, simCpuMs: simCpuAfter - simCpu };
      if (result.ok) await after?.(contender, result);
      contender.results.push(result);
      progress(result.ok ? `${secs(result.wallMs)} s, peak ${mib(result.peakRss)} MiB\n` : `FAILED: ${result.error}\n`);
    }
  }
}

function failures(contenders: Contender[]): string[] {
  return contenders.flatMap((c) => summarize(c.results).errors.map((e) => `${c.label}: ${e.split('\n')[0]}`));
}

/** Uploads the small image the deploy benchmarks (and the list seed) use. */
async function uploadSmallImage(sim: SimulatorProcess): Promise<void> {
  const client = new McmClient({ url: sim.url, token: sim.key });
  try {
    await client.uploadImage(buildImageTar({ name: SMALL_IMAGE }), { filename: `${SMALL_IMAGE}.tar` });
  } finally {
    client.close();
  }
}

interface Verdict {
  target: string;
  figure: string;
  pass?: boolean;
  /** A figure to report, not a target with a bound. */
  reported?: boolean;
}

/** An upload target: the simulator, or the fast receiver that only counts the bytes. */
interface UploadTarget {
  name: string;
  url: string;
  key: string;
  cpuMs(): number | undefined;
  /** A text when the last upload did not arrive whole. */
  checkLastUpload(expectedBytes: number): Promise<string | undefined>;
  /** Forgets earlier requests, so the check after a run sees that run's upload only. */
  resetStats(): Promise<void>;
}

async function benchUpload(
  sim: SimulatorProcess,
  receiver: ReceiverProcess,
  tmp: string,
  verdicts: Verdict[],
  out: string[],
): Promise<Contender[]> {
  const file = join(tmp, 'image.tar');
  progress(`writing a ${settings.uploadMiB} MiB image tar to ${file} ... `);
  const size = await writeImageTar(file, { name: UPLOAD_IMAGE, paddingBytes: Math.max(0, settings.uploadMiB * 2 ** 20 - 8192) });
  progress('done\n');
  const timeoutMs = Math.max(60_000, settings.uploadMiB * 200);
  const targets: UploadTarget[] = [
    {
      name: 'simulator',
      url: sim.url,
      key: sim.key,
      cpuMs: () => sim.cpuMs(),
      checkLastUpload: (n) => sim.checkLastUpload(n),
      resetStats: () => sim.resetStats(),
    },
    {
      name: receiver.name,
      url: receiver.url,
      key: receiver.key,
      cpuMs: () => receiver.cpuMs(),
      checkLastUpload: (n) => receiver.checkLastUpload(n),
      resetStats: () => receiver.resetStats(),
    },
  ];
  const byTarget = new Map<UploadTarget, Contender[]>();
  try {
    for (const target of targets) {
      const worker =
        (mode: string, warmups = 0) =>
        () =>
          runWorker(
            join(WORKERS, 'upload.js'),
            { mode, url: target.url, key: target.key, file, size, timeoutMs, warmups },
            (warmups + 1) * timeoutMs + 60_000,
          );
      const contenders: Contender[] = [
        { key: 'curl', label: 'curl -F (reference)', run: () => curlUpload(target.url, target.key, file, timeoutMs), results: [] },
        { key: 'node', label: 'mimoe-upload node, first upload of the process', run: worker('node'), results: [] },
        { key: 'node-again', label: 'mimoe-upload node, after one upload', run: worker('node', 1), results: [] },
        { key: 'node-warm', label: 'mimoe-upload node, after three uploads', run: worker('node', WARM_UPLOADS), results: [] },
        { key: 'diy', label: 'file in + http request (DIY)', run: worker('diy'), results: [] },
        { key: 'bare', label: 'bare node:http write loop, first upload (no axios, no streams)', run: worker('bare'), results: [] },
      ];
      await rounds(
        `upload to the ${target.name}`,
        target,
        contenders,
        () => target.resetStats(),
        async (_c, result) => {
          const problem = await target.checkLastUpload(size);
          if (problem) Object.assign(result, { ok: false, error: problem });
        },
      );
      byTarget.set(target, contenders);
    }
  } finally {
    removeTempDir(tmp); // the tar is not needed any more
  }
  const gib = size / 2 ** 30;
  const rows = targets.flatMap((target) => {
    const contenders = byTarget.get(target) ?? [];
    const ref = summarize(contenders[0].results);
    return contenders.map((c) => {
      const s = summarize(c.results);
      if (!s.runs) return [target.name, c.label, 'FAILED', '', '', '', '', '', '', '', '', '', ''];
      return [
        target.name,
        c.label,
        secs(s.wallMs),
        `${secs(s.minMs)}-${secs(s.maxMs)}`,
        (size / 2 ** 20 / (s.wallMs / 1000)).toFixed(0),
        c.key === 'curl' ? '1.00x' : ratio(s.wallMs / ref.wallMs),
        secs(s.cpuMs),
        `${secs(s.userMs)} / ${secs(s.systemMs)}`,
        secs(s.cpuMs / gib),
        secs(s.simCpuMs),
        mib(s.peakRss),
        mib(s.rssGrowth),
        mib(s.baselineRss),
      ];
    });
  });
  out.push(
    `### 1. Upload of a ${mib(size)} MiB image tar, to the simulator and to the fast receiver (median of ${settings.repeat})`,
    '',
    table(
      [
        'receiver',
        'contender',
        'time s',
        'min-max s',
        'MiB/s',
        'vs curl',
        'CPU s',
        'user / system s',
        'CPU s per GiB',
        'receiver CPU s',
        'peak RSS MiB',
        'RSS growth MiB',
        'idle RSS MiB',
      ],
      rows,
    ),
    '',
    'The fast receiver answers like the upload route but neither parses nor hashes the body: there the uploader sets the pace.',
    '',
  );
  for (const target of targets) {
    const contenders = byTarget.get(target) ?? [];
    const curl = summarize(contenders[0].results);
    const node = summarize(contenders[1].results);
    // The first upload of a process also compiles its code path; a Node-RED that runs for days has.
    for (const [c, when] of [
      [contenders[1], 'first upload'],
      [contenders[2], 'after one upload'],
      [contenders[3], 'after three uploads'],
    ] as const) {
      const timeRatio = summarize(c.results).wallMs / curl.wallMs;
      verdicts.push({
        target: `upload time <= ${TARGETS.uploadTimeVsCurl}x curl (${target.name}, ${when})`,
        figure: ratio(timeRatio),
        pass: Number.isFinite(timeRatio) ? timeRatio <= TARGETS.uploadTimeVsCurl : undefined,
      });
    }
    verdicts.push({
      target: `upload peak RSS growth < ${TARGETS.uploadGrowthMiB} MiB (${target.name})`,
      figure: `${mib(node.rssGrowth)} MiB`,
      pass: node.runs ? node.rssGrowth < TARGETS.uploadGrowthMiB * 2 ** 20 : undefined,
    });
    if (target === targets[targets.length - 1]) {
      verdicts.push({
        target: `upload client CPU per GiB (${target.name})`,
        figure:
          `${secs(node.cpuMs / gib)} s, after one upload ${secs(summarize(contenders[2].results).cpuMs / gib)} s, ` +
          `after three ${secs(summarize(contenders[3].results).cpuMs / gib)} s (curl ${secs(curl.cpuMs / gib)} s)`,
        reported: true,
      });
    }
  }
  // One list for the failure report and BENCH_JSON: each label names its receiver.
  return [...byTarget].flatMap(([target, contenders]) => contenders.map((c) => ({ ...c, label: `${c.label}, ${target.name}` })));
}

/** A server the msgs benchmarks talk to: the simulator or the fast receiver. */
interface Server {
  name: string;
  url: string;
  key: string;
  cpuMs(): number | undefined;
}

const perSecond = (s: Summary): number => s.count / (s.wallMs / 1000);
/** CPU of the contender's process per msg, in µs. */
const cpuPerMsg = (s: Summary): number => (s.cpuMs * 1000) / s.count;
/** Wall time per msg at the contender's concurrency, in µs: 1/throughput. */
const wallPerMsg = (s: Summary): number => (s.wallMs * 1000) / s.count;
const micros = (us: number): string => (Number.isFinite(us) ? us.toFixed(0) : '-');

function msgsWorker(server: Server, operation: 'list' | 'deploy', mode: string, helperSpies = true): () => Promise<WorkerResult> {
  const config = {
    operation,
    mode,
    helperSpies,
    url: server.url,
    key: server.key,
    image: SMALL_IMAGE,
    prefix: `${operation}-${mode}-${Date.now()}-`,
    total: settings.listRequests,
    concurrency: settings.concurrency,
    warmup: settings.listWarmup,
  };
  return () => runWorker(join(WORKERS, 'msgs.js'), config, 180_000);
}

/** Rows of a msgs table: throughput against the reference (the first contender of the same server), CPU and wall per msg. */
function msgsRows(groups: Array<{ server: Server; contenders: Contender[] }>): string[][] {
  return groups.flatMap(({ server, contenders }) => {
    const ref = summarize(contenders[0].results);
    return contenders.map((c, i) => {
      const s = summarize(c.results);
      if (!s.runs) return [server.name, c.label, 'FAILED', '', '', '', '', '', '', '', '', '', ''];
      return [
        server.name,
        c.label,
        perSecond(s).toFixed(0),
        i === 0 ? '1.00x' : ratio(perSecond(s) / perSecond(ref)),
        (1e6 / cpuPerMsg(s)).toFixed(0),
        i === 0 ? '1.00x' : ratio(cpuPerMsg(ref) / cpuPerMsg(s)),
        secs(s.wallMs),
        `${secs(s.minMs)}-${secs(s.maxMs)}`,
        micros(cpuPerMsg(s)),
        micros(wallPerMsg(s)),
        secs(s.simCpuMs),
        mib(s.peakRss),
        mib(s.rssGrowth),
      ];
    });
  });
}

const MSGS_HEAD = [
  'server',
  'contender',
  'msgs/s',
  'vs ref',
  'msgs per CPU s',
  'vs ref (CPU)',
  'time s',
  'min-max s',
  'CPU µs per msg',
  'wall µs per msg',
  'server CPU s',
  'peak RSS MiB',
  'RSS growth MiB',
];

/** What one msg costs, in CPU µs of the Node-RED process: routing, the package's node code, the client call. */
interface Breakdown {
  routing: number;
  nodeCode: number;
  client: number;
  total: number;
}

function breakdownOf(contenders: Contender[]): Breakdown {
  const cpu = (key: string) => cpuPerMsg(summarize(contenders.find((c) => c.key === key)?.results ?? []));
  const routing = cpu('pass');
  return { routing, nodeCode: cpu('stub') - routing, client: cpu('client'), total: cpu('node') };
}

async function seedSimulator(sim: SimulatorProcess): Promise<void> {
  await sim.reset();
  await uploadSmallImage(sim);
  if (settings.seedMims === 0) return;
  const client = new McmClient({ url: sim.url, token: sim.key });
  try {
    await client.deployComposition(
      Array.from({ length: settings.seedMims }, (_, i) => ({ name: `listed-${i}`, image: SMALL_IMAGE, env: { INDEX: String(i) } })),
    );
  } finally {
    client.close();
  }
}

/**
 * List and deploy msgs, N in flight: every list contender against the simulator and against the
 * fast receiver; the deploy contenders and the breakdown against the fast receiver (the pass-through
 * and stub contenders make no request: they run once, beside it).
 */
async function benchMsgs(sim: SimulatorProcess, fast: Server, verdicts: Verdict[], out: string[]): Promise<Contender[]> {
  await seedSimulator(sim);
  // Flows run as Node-RED runs them: without node-red-node-test-helper's Sinon spies, which record
  // every send/status call and keep its msg. The rows "with the test helper's spies" show what they cost.
  const listOn = (server: Server, withBreakdown: boolean): Contender[] => [
    { key: 'axios', label: 'axios loop (reference)', run: msgsWorker(server, 'list', 'axios'), results: [] },
    { key: 'client', label: 'McmClient alone', run: msgsWorker(server, 'list', 'client'), results: [] },
    { key: 'node', label: 'mimoe-list node', run: msgsWorker(server, 'list', 'node', false), results: [] },
    { key: 'core', label: 'core http request node', run: msgsWorker(server, 'list', 'core', false), results: [] },
    ...(withBreakdown
      ? [
          { key: 'stub', label: 'mimoe-list node, client from memory', run: msgsWorker(server, 'list', 'stub', false), results: [] },
          { key: 'pass', label: 'pass-through node (routing)', run: msgsWorker(server, 'list', 'pass', false), results: [] },
          {
            key: 'node-spies',
            label: "mimoe-list node, with the test helper's spies",
            run: msgsWorker(server, 'list', 'node'),
            results: [],
          },
          {
            key: 'core-spies',
            label: "core http request node, with the test helper's spies",
            run: msgsWorker(server, 'list', 'core'),
            results: [],
          },
        ]
      : []),
  ];
  const simList = listOn(sim, false);
  const fastList = listOn(fast, true);
  const fastDeploy: Contender[] = [
    { key: 'axios', label: 'axios loop (reference)', run: msgsWorker(fast, 'deploy', 'axios'), results: [] },
    { key: 'client', label: 'McmClient alone', run: msgsWorker(fast, 'deploy', 'client'), results: [] },
    { key: 'node', label: 'mimoe-deploy node', run: msgsWorker(fast, 'deploy', 'node', false), results: [] },
    { key: 'stub', label: 'mimoe-deploy node, client from memory', run: msgsWorker(fast, 'deploy', 'stub', false), results: [] },
    { key: 'pass', label: 'pass-through node (routing)', run: msgsWorker(fast, 'deploy', 'pass', false), results: [] },
    { key: 'node-spies', label: "mimoe-deploy node, with the test helper's spies", run: msgsWorker(fast, 'deploy', 'node'), results: [] },
  ];
  await rounds('list (simulator)', sim, simList, () => sim.resetStats());
  await rounds('list (fast receiver)', fast, fastList);
  await rounds('deploy (fast receiver)', fast, fastDeploy);

  out.push(
    `### 2. ${settings.listRequests} list and deploy msgs, ${settings.concurrency} in flight, ${settings.seedMims} mims listed (median of ${settings.repeat})`,
    '',
    'List:',
    '',
    table(
      MSGS_HEAD,
      msgsRows([
        { server: fast, contenders: fastList },
        { server: sim, contenders: simList },
      ]),
    ),
    '',
    'Deploy (a distinct name per msg; the fast receiver keeps nothing):',
    '',
    table(MSGS_HEAD, msgsRows([{ server: fast, contenders: fastDeploy }])),
    '',
    "CPU µs per msg is the contender process's own CPU, msgs per CPU s its inverse (what one core gives); wall µs per msg is",
    '1/throughput at the concurrency, which on a shared machine depends on what else runs. The client-from-memory',
    'and pass-through rows make no request. Flows run without the Sinon spies node-red-node-test-helper puts on every node (they',
    'record every send/status call and keep its msg; a real Node-RED has none), except the rows that say so.',
    '',
  );

  const breakdowns = [
    ['mimoe-list', breakdownOf(fastList)],
    ['mimoe-deploy', breakdownOf(fastDeploy)],
  ] as const;
  const share = (part: number, b: Breakdown) => (Number.isFinite(part / b.total) ? `${((part / b.total) * 100).toFixed(0)}%` : '-');
  out.push(
    'Cost of one msg against the fast receiver, in CPU µs of the Node-RED process (medians):',
    '',
    table(
      [
        'node',
        "Node-RED's routing (pass-through)",
        "the package's node code (from memory - pass-through)",
        'the client call (McmClient alone)',
        'sum',
        'the mimoe node measured',
      ],
      breakdowns.map(([name, b]) => [
        name,
        `${micros(b.routing)} (${share(b.routing, b)})`,
        `${micros(b.nodeCode)} (${share(b.nodeCode, b)})`,
        `${micros(b.client)} (${share(b.client, b)})`,
        micros(b.routing + b.nodeCode + b.client),
        micros(b.total),
      ]),
    ),
    '',
  );

  const of = (contenders: Contender[], key: string) => summarize(contenders.find((c) => c.key === key)?.results ?? []);
  const rate = (contenders: Contender[], key: string) => perSecond(of(contenders, key));
  /** Msgs per second of CPU: what one core gives, whatever else the machine runs. */
  const capacity = (contenders: Contender[], key: string) => 1e6 / cpuPerMsg(of(contenders, key));
  const bound = (value: number, min: number) => (Number.isFinite(value) ? value >= min : undefined);
  const vsAxios = capacity(fastList, 'node') / capacity(fastList, 'axios');
  const vsCore = capacity(fastList, 'node') / capacity(fastList, 'core');
  verdicts.push(
    {
      target: `list throughput per CPU second >= ${TARGETS.listVsAxios}x axios loop (fast receiver)`,
      figure: ratio(vsAxios),
      pass: bound(vsAxios, TARGETS.listVsAxios),
    },
    {
      target: `list throughput per CPU second >= ${TARGETS.listVsCore}x core http request node (fast receiver)`,
      figure: ratio(vsCore),
      pass: bound(vsCore, TARGETS.listVsCore),
    },
    ...breakdowns.map(([name, b]) => ({
      target: `${name}: the package's node code <= ${TARGETS.nodeCodeShare * 100}% of a msg's CPU (fast receiver)`,
      figure: `${share(b.nodeCode, b)} (${micros(b.nodeCode)} of ${micros(b.total)} µs)`,
      pass: Number.isFinite(b.nodeCode / b.total) ? b.nodeCode / b.total <= TARGETS.nodeCodeShare : undefined,
    })),
    {
      target: 'list msgs/s (wall clock) vs axios loop, vs core http request node (fast receiver; the load of the machine decides)',
      figure: `${ratio(rate(fastList, 'node') / rate(fastList, 'axios'))}, ${ratio(rate(fastList, 'node') / rate(fastList, 'core'))}`,
      reported: true,
    },
    {
      target: "list throughput per CPU second vs axios loop, vs core http request node (fast receiver, with the test helper's spies)",
      figure: `${ratio(capacity(fastList, 'node-spies') / capacity(fastList, 'axios'))}, ${ratio(capacity(fastList, 'node-spies') / capacity(fastList, 'core-spies'))}`,
      reported: true,
    },
    {
      target: 'list throughput vs axios loop, vs core http request node (simulator: it sets the pace)',
      figure: `${ratio(rate(simList, 'node') / rate(simList, 'axios'))}, ${ratio(rate(simList, 'node') / rate(simList, 'core'))}`,
      reported: true,
    },
  );
  return [
    ...simList.map((c) => ({ ...c, label: `list: ${c.label}, simulator` })),
    ...fastList.map((c) => ({ ...c, label: `list: ${c.label}, fast receiver` })),
    ...fastDeploy.map((c) => ({ ...c, label: `deploy: ${c.label}, fast receiver` })),
  ];
}

/** A composition and a burst of deploy msgs, against the simulator and the fast receiver. */
async function benchDeploy(sim: SimulatorProcess, fast: Server, verdicts: Verdict[], out: string[]): Promise<Contender[]> {
  const groups = [sim, fast].map((server) => {
    const worker = (mode: string, count: number) => () =>
      runWorker(
        join(WORKERS, 'deploy.js'),
        { mode, url: server.url, key: server.key, image: SMALL_IMAGE, count, concurrency: settings.concurrency, prefix: `${mode}-` },
        180_000,
      );
    const contenders: Contender[] = [
      {
        key: 'composition',
        label: `1 mimoe-composition msg, ${settings.compositionMims} mims`,
        run: worker('composition', settings.compositionMims),
        results: [],
      },
      { key: 'deploy', label: `${settings.deployMsgs} mimoe-deploy msgs at once`, run: worker('deploy', settings.deployMsgs), results: [] },
    ];
    return { server, contenders };
  });
  for (const { server, contenders } of groups) {
    await rounds(`deploy burst (${server.name})`, server, contenders, async () => {
      if (server === sim) {
        await sim.reset();
        await uploadSmallImage(sim);
      }
    });
  }
  const rows = groups.flatMap(({ server, contenders }) =>
    contenders.map((c) => {
      const s = summarize(c.results);
      if (!s.runs) return [server.name, c.label, 'FAILED', '', '', '', '', '', ''];
      return [
        server.name,
        c.label,
        secs(s.wallMs),
        (s.count / (s.wallMs / 1000)).toFixed(0),
        secs(s.cpuMs),
        secs(s.simCpuMs),
        mib(s.peakRss),
        mib(s.rssGrowth),
        mib(s.baselineRss),
      ];
    }),
  );
  out.push(
    `### 3. Deploying through the nodes, client concurrency ${settings.concurrency} (median of ${settings.repeat})`,
    '',
    table(['server', 'case', 'time s', 'mims/s', 'CPU s', 'server CPU s', 'peak RSS MiB', 'RSS growth MiB', 'idle RSS MiB'], rows),
    '',
  );
  for (const { server, contenders } of groups) {
    const burst = summarize(contenders[1].results);
    verdicts.push({
      target: `${settings.deployMsgs} deploy msgs: RSS growth < ${TARGETS.deployGrowthMiB} MiB (${server.name})`,
      figure: `${mib(burst.rssGrowth)} MiB`,
      pass: burst.runs ? burst.rssGrowth < TARGETS.deployGrowthMiB * 2 ** 20 : undefined,
    });
  }
  return groups.flatMap(({ server, contenders }) => contenders.map((c) => ({ ...c, label: `${c.label}, ${server.name}` })));
}

/** Each run gets a fresh fleet of `size` devices in its own process; its CPU is the contender's fleet CPU. */
async function onFleet(tmp: string, size: number, work: (fleet: FleetProcess) => Promise<WorkerResult>): Promise<WorkerResult> {
  const fleet = await FleetProcess.start(ROOT, join(tmp, `fleet-${size}-api-key.env`), size, settings.fleetDeviceMs);
  try {
    const before = fleet.cpuMs();
    const result = await work(fleet);
    const after = fleet.cpuMs();
    if (before !== undefined && after !== undefined) result.extra = { ...result.extra, simCpuMs: after - before };
    return result;
  } finally {
    await fleet.stop();
  }
}

async function benchFleet(tmp: string, verdicts: Verdict[], out: string[]): Promise<Contender[]> {
  const file = join(tmp, 'fleet-image.tar');
  progress(`writing a ${settings.fleetMiB} MiB image tar to ${file} ... `);
  const bytes = await writeImageTar(file, { name: FLEET_IMAGE, paddingBytes: Math.max(0, settings.fleetMiB * 2 ** 20 - 8192) });
  progress('done\n');
  const sizes = [...new Set(settings.fleetSizes)].sort((a, b) => a - b);
  const largest = sizes[sizes.length - 1];
  const serial = settings.fleetSerial ?? largest;
  const parallel = settings.fleetParallel;
  const worker = (mode: 'rollout' | 'nodes', size: number) => () =>
    onFleet(tmp, size, (fleet) => {
      // A device's upload may wait for its turn behind the others: the bound grows with the fleet.
      const timeoutMs = 120_000 + size * (settings.fleetMiB * 200 + settings.fleetDeviceMs);
      const config = { mode, urls: fleet.urls, key: fleet.key, file, image: FLEET_IMAGE, size: bytes, parallel, timeoutMs };
      return runWorker(join(WORKERS, 'fleet.js'), config, timeoutMs + 60_000);
    });
  const contenders: Contender[] = [
    ...sizes.map((size) => ({
      key: `rollout-${size}`,
      label: `mimoe-rollout, ${size} devices, parallel ${parallel}`,
      run: worker('rollout', size),
      results: [] as WorkerResult[],
    })),
    {
      key: 'nodes',
      label: `mimoe-upload + mimoe-deploy, ${serial} devices one after another`,
      run: worker('nodes', serial),
      results: [],
    },
  ];
  await rounds('fleet', undefined, contenders, undefined, undefined, settings.fleetRepeat);
  removeTempDir(tmp);
  const devicesOf = (c: Contender) => (c.key === 'nodes' ? serial : Number(c.key.split('-')[1]));
  const rows = contenders.map((c) => {
    const s = summarize(c.results);
    if (!s.runs) return [c.label, 'FAILED', '', '', '', '', '', '', ''];
    return [
      c.label,
      secs(s.wallMs),
      `${secs(s.minMs)}-${secs(s.maxMs)}`,
      (s.wallMs / devicesOf(c) / 1000).toFixed(3),
      secs(s.cpuMs),
      secs(s.simCpuMs),
      mib(s.peakRss),
      mib(s.rssGrowth),
      mib(s.baselineRss),
    ];
  });
  out.push(
    `### 4. A ${mib(bytes)} MiB image uploaded to every device of a simulated fleet, then deployed on every device ` +
      `(device answer delay ${settings.fleetDeviceMs} ms; median of ${settings.fleetRepeat})`,
    '',
    table(
      ['contender', 'time s', 'min-max s', 's per device', 'CPU s', 'fleet CPU s', 'peak RSS MiB', 'RSS growth MiB', 'idle RSS MiB'],
      rows,
    ),
    '',
  );
  const large = summarize(contenders[sizes.length - 1].results);
  const small = summarize(contenders[0].results);
  const nodes = summarize(contenders[contenders.length - 1].results);
  const oneDevice = nodes.wallMs / serial;
  const bound = TARGETS.fleetTimeFactor * (largest / parallel) * oneDevice;
  verdicts.push({
    target: `fleet RSS growth at ${largest} devices < ${TARGETS.fleetGrowthMiB} MiB`,
    figure: `${mib(large.rssGrowth)} MiB`,
    pass: large.runs ? large.rssGrowth < TARGETS.fleetGrowthMiB * 2 ** 20 : undefined,
  });
  if (sizes.length > 1) {
    verdicts.push({
      target: `fleet RSS growth at ${largest} devices <= ${TARGETS.fleetGrowthRatio}x at ${sizes[0]}`,
      figure: ratio(large.rssGrowth / small.rssGrowth),
      pass: large.runs && small.runs ? large.rssGrowth <= TARGETS.fleetGrowthRatio * small.rssGrowth : undefined,
    });
  }
  verdicts.push({
    target: `fleet time <= ${TARGETS.fleetTimeFactor} x (${largest}/${parallel}) x one device's (${secs(oneDevice)} s) = ${secs(bound)} s`,
    figure: `${secs(large.wallMs)} s`,
    pass: large.runs && nodes.runs ? large.wallMs <= bound : undefined,
  });
  return contenders;
}

async function main(): Promise<number> {
  const started = Date.now();
  const header = ['## node-red-mimoe benchmark', '', ...machine().map((l) => `    ${l}`), ''];
  process.stdout.write(`${header.join('\n')}\n`);
  const tmp = mkdtempSync(join(os.tmpdir(), 'mimoe-bench-'));
  registerTempDir(tmp);
  const sim = await SimulatorProcess.start(ROOT, join(tmp, 'mimoe-api-key.env'));
  progress(`simulator ${sim.url} (pid ${sim.pid})\n`);
  const fast = await ReceiverProcess.start(ROOT, SMALL_IMAGE, settings.seedMims);
  progress(`fast receiver ${fast.url} (pid ${fast.pid})\n`);
  const out: string[] = [];
  const verdicts: Verdict[] = [];
  const all: Record<string, Contender[]> = {};
  try {
    if (settings.only.has('upload')) all.upload = await benchUpload(sim, fast, mkdtempSync(join(tmp, 'upload-')), verdicts, out);
    if (settings.only.has('msgs')) all.msgs = await benchMsgs(sim, fast, verdicts, out);
    if (settings.only.has('deploy')) all.deploy = await benchDeploy(sim, fast, verdicts, out);
    if (settings.only.has('fleet')) all.fleet = await benchFleet(mkdtempSync(join(tmp, 'fleet-')), verdicts, out);
  } finally {
    await sim.stop();
    await fast.stop();
    removeTempDir(tmp);
  }
  if (verdicts.length) {
    out.push(
      '### Targets',
      '',
      table(
        ['target', 'measured', 'result'],
        verdicts.map((v) => [v.target, v.figure, v.reported ? 'reported' : verdict(v.pass)]),
      ),
      '',
    );
  }
  const failed = Object.values(all).flatMap(failures);
  if (failed.length) out.push('### Failures', '', ...failed.map((f) => `- ${f}`), '');
  out.push(
    `Peak RSS is per process: GNU time's maximum RSS for curl; for node workers the higher of a 20 ms RSS sampler and ` +
      `process.resourceUsage().maxRSS (reset after the idle baseline via /proc/self/clear_refs). RSS growth = peak - idle baseline ` +
      `(node: after setup and GC; curl: curl doing a tiny GET). Times exclude process start-up and flow loading. ` +
      `Total ${((Date.now() - started) / 1000).toFixed(0)} s, load average at end ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}.`,
  );
  process.stdout.write(`\n${out.join('\n')}\n`);
  if (process.env.BENCH_JSON) {
    const raw = Object.fromEntries(
      Object.entries(all).map(([k, cs]) => [k, cs.map((c) => ({ key: c.key, label: c.label, results: c.results }))]),
    );
    writeFileSync(
      process.env.BENCH_JSON,
      JSON.stringify({ settings: { ...settings, only: [...settings.only] }, machine: machine(), results: raw, verdicts }, null, 2),
    );
  }
  return failed.length ? 1 : 0;
}

main().then(
  (code) => {
    cleanupNow();
    process.exit(code);
  },
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    cleanupNow();
    process.exit(1);
  },
);
