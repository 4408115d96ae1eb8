/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, e.g. BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR"):
 * self time grouped by where the code comes from (this package, Node-RED, the test helper and its
 * spies, axios, form-data, Node's own internals, the garbage collector, idle), then the functions
 * with the most self time.
 *
 *   node build/bench/profile-summary.js [--top 25] FILE.cpuprofile...
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a function comes from, by its script's URL. */
function groupOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(idle)') return 'idle';
  if (name === '(program)' || name === '(root)') return 'V8 (program)';
  if (/\/node_modules\/(sinon|@sinonjs|node-red-node-test-helper)\//.test(url)) return 'test helper (spies)';
  if (/\/node_modules\/axios\//.test(url)) return 'axios';
  if (/\/node_modules\/(form-data|combined-stream|delayed-stream|asynckit|mime-types|mime-db)\//.test(url)) return 'form-data';
  if (/\/node_modules\/(@node-red|node-red)\//.test(url)) return 'Node-RED';
  if (/\/build\/(src|bench|test)\//.test(url)) return url.includes('/build/src/') ? 'this package' : 'benchmark';
  if (url.startsWith('node:') || url === '') return 'Node internals';
  if (/\/node_modules\//.test(url)) return `other package (${/\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]})`;
  return 'other';
}

function shortUrl(url: string): string {
  const m = /\/node_modules\/(.+)$/.exec(url) ?? /\/build\/(.+)$/.exec(url);
  return m ? m[1] : url.replace(/^node:/, 'node:');
}

function summarise(files: string[], top: number): string {
  const byGroup = new Map<string, number>();
  const byFunction = new Map<string, { group: string; us: number }>();
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const node = nodes.get(id);
      if (!node) return;
      const { functionName, url, lineNumber } = node.callFrame;
      const group = groupOf(url, functionName);
      totalUs += us;
      byGroup.set(group, (byGroup.get(group) ?? 0) + us);
      const key = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
      const entry = byFunction.get(key) ?? { group, us: 0 };
      entry.us += us;
      byFunction.set(key, entry);
    });
  }
  const busyUs = totalUs - (byGroup.get('idle') ?? 0);
  const pct = (us: number) => `${((us / busyUs) * 100).toFixed(1)}%`;
  const lines = [`${files.length} profile(s), ${(totalUs / 1000).toFixed(0)} ms sampled, ${(busyUs / 1000).toFixed(0)} ms not idle`, ''];
  lines.push('Self time by origin (share of the time not idle):', '');
  for (const [group, us] of [...byGroup].filter(([g]) => g !== 'idle').sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${pct(us).padStart(6)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${group}`);
  }
  lines.push('', `Top ${top} functions by self time:`, '');
  const functions = [...byFunction].filter(([, e]) => e.group !== 'idle').sort((a, b) => b[1].us - a[1].us);
  for (const [name, entry] of functions.slice(0, top)) {
    lines.push(`  ${pct(entry.us).padStart(6)}  ${entry.group.padEnd(20)} ${name}`);
  }
  return lines.join('\n');
}

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 25;
if (!args.length) {
  process.stderr.write('usage: node build/bench/profile-summary.js [--top N] FILE.cpuprofile...\n');
  process.exit(2);
}
process.stdout.write(`${summarise(args, top)}\n`);
