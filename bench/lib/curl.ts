/**
 * The reference upload: curl, in its own process. Its peak RSS comes from GNU time's
 * "Maximum resident set size" when /usr/bin/time exists, else from sampling /proc/<pid>/status
 * VmHWM every 20 ms. The idle baseline is the peak RSS of curl doing a tiny GET.
 *
 * `-H 'Expect:'`: for a big -F body curl sends `Expect: 100-continue`, which the simulator (like
 * the runtime) answers with 417; the empty header turns that off, as a curl user has to.
 */
import type { WorkerResult } from '../workers/meter';
import { hasGnuTime, runToEnd, vmHwmOf } from './processes';

interface CurlOutcome {
  httpCode: number;
  /** curl's own %{time_total}, in ms: from the start of the transfer to its end. */
  transferMs: number;
  processMs: number;
  peakRss: number;
  /** User + system CPU time, from GNU time (undefined without it), and its parts. */
  cpuMs?: number;
  userMs?: number;
  systemMs?: number;
  error?: string;
}

async function curl(args: string[], timeoutMs: number): Promise<CurlOutcome> {
  const full = ['-s', '-S', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', ...args];
  let peakSampled = 0;
  let sampler: NodeJS.Timeout | undefined;
  const gnuTime = hasGnuTime();
  const finished = gnuTime
    ? await runToEnd('/usr/bin/time', ['-v', 'curl', ...full], { timeoutMs })
    : await runToEnd('curl', full, {
        timeoutMs,
        onSpawn: (child) => {
          sampler = setInterval(() => {
            const hwm = child.pid ? vmHwmOf(child.pid) : undefined;
            if (hwm && hwm > peakSampled) peakSampled = hwm;
          }, 20);
        },
      });
  clearInterval(sampler);
  const [code, seconds] = finished.stdout.trim().split(/\s+/);
  const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(finished.stderr);
  const peakRss = gnuTime && m ? Number(m[1]) * 1024 : peakSampled;
  const httpCode = Number(code) || 0;
  const user = /User time \(seconds\):\s*([\d.]+)/.exec(finished.stderr);
  const system = /System time \(seconds\):\s*([\d.]+)/.exec(finished.stderr);
  const userMs = gnuTime && user ? Number(user[1]) * 1000 : undefined;
  const systemMs = gnuTime && system ? Number(system[1]) * 1000 : undefined;
  const cpuMs = userMs !== undefined && systemMs !== undefined ? userMs + systemMs : undefined;
  const problems = finished.stderr
    .split('\n')
    .filter((line) => line.startsWith('curl:'))
    .join(' ');
  return {
    httpCode,
    transferMs: Number(seconds) * 1000 || finished.wallMs,
    processMs: finished.wallMs,
    peakRss,
    cpuMs,
    userMs,
    systemMs,
    error: finished.timedOut ? `timed out after ${timeoutMs} ms` : problems || undefined,
  };
}

export async function curlUpload(url: string, key: string, file: string, timeoutMs: number): Promise<WorkerResult> {
  const auth = ['-H', `Authorization: Bearer ${key}`];
  const idle = await curl([...auth, `${url}/mcm/v1/images`], 30_000);
  const upload = await curl(['-H', 'Expect:', '-F', `image=@${file}`, ...auth, `${url}/mcm/v1/images`], timeoutMs);
  const error = upload.error ?? (upload.httpCode === 201 ? undefined : `HTTP ${upload.httpCode}`);
  return {
    ok: !error,
    error,
    count: error ? 0 : 1,
    wallMs: upload.transferMs,
    cpuMs: upload.cpuMs,
    userMs: upload.userMs,
    systemMs: upload.systemMs,
    baselineRss: idle.peakRss,
    peakRssSampled: upload.peakRss,
    maxRss: upload.peakRss,
    peakReset: false,
    peakRss: upload.peakRss,
    rssGrowth: upload.peakRss - idle.peakRss,
    extra: { processMs: upload.processMs, peakFrom: hasGnuTime() ? '/usr/bin/time -v' : '/proc/<pid>/status VmHWM' },
  };
}
