/**
 * Answers are capped: an endless or huge answer fails with `too-large` naming the limit, its
 * connection is closed, and the process's memory stays bounded (the old client grew by about
 * 2 GiB in 5 s on an endless list).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { McmClient } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import { rejects } from '../support/client';
import { closeServer, listenOnLoopback } from '../support/loopback-server';
import { waitFor } from '../support/simulator-helpers';

const MiB = 1024 * 1024;

describe('the answer cap', function () {
  this.timeout(30_000);
  let server: http.Server;
  let url = '';
  /** Bytes the server wrote, and whether the client closed the connection. */
  let written = 0;
  let closedByClient = false;
  let mode: 'endless' | 'declared' = 'endless';

  before(async () => {
    server = http.createServer((_req, res) => {
      written = 0;
      closedByClient = false;
      res.on('close', () => (closedByClient = !res.writableFinished));
      if (mode === 'declared') {
        // Announces 1 GiB; the client must refuse before reading any of it.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(1024 * MiB) });
        res.write('{"data":[');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.from(`{"id":"api-x","name":"x","padding":"${'x'.repeat(64 * 1024)}"},`);
      res.write('{"data":[');
      const pump = () => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
      };
      pump();
    });
    url = await listenOnLoopback(server);
  });
  after(() => closeServer(server));

  it('ends an endless answer at the default 64 MiB with too-large, closes it, and keeps memory bounded', async () => {
    mode = 'endless';
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const client = new McmClient({ url, token: 'k', retries: 0, timeoutMs: 10_000 });
    let error: McmError;
    try {
      error = await rejects(client.listMims());
    } finally {
      clearInterval(sampler);
      client.close();
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.equal(error.code, 'too-large');
    assert.equal(error.message, 'listMims failed: the answer is too large (over 64 MiB, the limit for one answer)');
    await waitFor(() => closedByClient, 'the connection closed');
    const grewMiB = (peak - before) / MiB;
    assert.ok(grewMiB < 200, `RSS grew by ${grewMiB.toFixed(0)} MiB`);
    assert.ok(written >= 64 * MiB, `the server got to write ${(written / MiB).toFixed(0)} MiB before the end`);
  });

  it('takes a smaller maxResponseBytes', async () => {
    mode = 'endless';
    const client = new McmClient({ url, token: 'k', retries: 0, maxResponseBytes: 2 * MiB });
    try {
      const error = await rejects(client.listMims());
      assert.match(error.message, /\(over 2 MiB, the limit for one answer\)$/);
      assert.ok(written < 32 * MiB, `${(written / MiB).toFixed(0)} MiB written before the end`);
    } finally {
      client.close();
    }
  });

  it('refuses an answer whose Content-Length is over the cap before reading it', async () => {
    mode = 'declared';
    const seen: number[] = [];
    const client = new McmClient({ url, token: 'k', retries: 0, onExchange: (e) => seen.push(e.bytesReceived) });
    try {
      const error = await rejects(client.listMims());
      assert.equal(error.code, 'too-large');
      assert.deepEqual(seen, [0], 'nothing of the body was read');
      await waitFor(() => closedByClient, 'the connection closed');
    } finally {
      client.close();
    }
  });
});
