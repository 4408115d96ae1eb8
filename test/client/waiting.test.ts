/**
 * The two ways a client call waits: for a slot under the concurrency bound (ConcurrencyLimiter)
 * and between retries or polls (delay). Both must end at once when the msg is aborted (a node
 * closed, a flow redeployed), and neither may leave a listener behind on a signal that lives as
 * long as the client.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { delay } from '../../src/mcm/delay';
import { McmError } from '../../src/mcm/errors';
import { ConcurrencyLimiter } from '../../src/mcm/limiter';

/** A task that runs until its `finish` is called, recording how many ran at once. */
function gatedTasks() {
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const gates = new Map<number, () => void>();
  const task = (id: number) => () =>
    new Promise<number>((resolve) => {
      running++;
      most = Math.max(most, running);
      started.push(id);
      gates.set(id, () => {
        running--;
        resolve(id);
      });
    });
  const finish = (id: number) => gates.get(id)?.();
  return { task, finish, started, most: () => most };
}

/** Timers that keep the process alive. */
const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('waiting for a slot and between tries', () => {
  describe('ConcurrencyLimiter', () => {
    it('never runs more than its bound at once, through many rounds', async () => {
      const limiter = new ConcurrencyLimiter(2);
      const gated = gatedTasks();
      const signal = new AbortController().signal;
      const results = Array.from({ length: 8 }, (_, id) => limiter.run(gated.task(id), signal));
      for (let id = 0; id < 8; id++) {
        await tick();
        gated.finish(id);
      }
      assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.equal(gated.most(), 2);
      assert.deepEqual(gated.started, [0, 1, 2, 3, 4, 5, 6, 7]);
    });

    it('keeps the bound for tasks that arrive after waiters were served', async () => {
      const limiter = new ConcurrencyLimiter(1);
      const gated = gatedTasks();
      const signal = new AbortController().signal;
      const first = limiter.run(gated.task(0), signal);
      const waiter = limiter.run(gated.task(1), signal);
      await tick();
      gated.finish(0);
      await tick();
      const late = limiter.run(gated.task(2), signal);
      await tick();
      assert.deepEqual(gated.started, [0, 1]);
      gated.finish(1);
      await tick();
      gated.finish(2);
      assert.deepEqual(await Promise.all([first, waiter, late]), [0, 1, 2]);
      assert.equal(gated.most(), 1);
    });

    it('frees the slot of a task that fails', async () => {
      const limiter = new ConcurrencyLimiter(1);
      const signal = new AbortController().signal;
      await assert.rejects(
        limiter.run(() => Promise.reject(new Error('boom')), signal),
        /boom/,
      );
      assert.equal(await limiter.run(() => Promise.resolve('next'), signal), 'next');
    });

    it('drops a waiter whose msg is aborted: it never runs, and the others keep their order', async () => {
      const limiter = new ConcurrencyLimiter(1);
      const gated = gatedTasks();
      const keep = new AbortController().signal;
      const aborted = new AbortController();
      const first = limiter.run(gated.task(0), keep);
      const dropped = limiter.run(gated.task(1), aborted.signal);
      const third = limiter.run(gated.task(2), keep);
      await tick();
      aborted.abort(new McmError({ operation: 'listMims', code: 'aborted' }));
      await assert.rejects(dropped, (err: McmError) => err.code === 'aborted');
      assert.equal(getEventListeners(aborted.signal, 'abort').length, 0);
      gated.finish(0);
      await tick();
      gated.finish(2);
      assert.deepEqual(await Promise.all([first, third]), [0, 2]);
      assert.deepEqual(gated.started, [0, 2]);
      assert.equal(gated.most(), 1);
    });

    it('refuses at once a msg aborted before it asks, taking no slot', async () => {
      const limiter = new ConcurrencyLimiter(1);
      const aborted = new AbortController();
      aborted.abort(new Error('closed'));
      await assert.rejects(
        limiter.run(() => Promise.resolve('never'), aborted.signal),
        /closed/,
      );
      assert.equal(await limiter.run(() => Promise.resolve('runs'), new AbortController().signal), 'runs');
    });

    it('leaves no listener on the signal of a waiter once it has its slot', async () => {
      const limiter = new ConcurrencyLimiter(1);
      const gated = gatedTasks();
      const shared = new AbortController().signal;
      const first = limiter.run(gated.task(0), shared);
      const second = limiter.run(gated.task(1), shared);
      await tick();
      assert.equal(getEventListeners(shared, 'abort').length, 1);
      gated.finish(0);
      await tick();
      assert.equal(getEventListeners(shared, 'abort').length, 0);
      gated.finish(1);
      await Promise.all([first, second]);
    });
  });

  describe('delay', () => {
    it('waits the time given', async () => {
      const started = Date.now();
      await delay('listMims', 50);
      assert.ok(Date.now() - started >= 45);
    });

    it('ends early as an aborted McmError of the operation when any of its signals aborts', async () => {
      const call = new AbortController();
      const closing = new AbortController();
      await tick(); // mocha starts its own timer for the test after the test's first step
      const timersBefore = timers();
      const started = Date.now();
      const waiting = delay('backupDataStore', 10_000, undefined, call.signal, closing.signal);
      setImmediate(() => closing.abort());
      await assert.rejects(waiting, (err: McmError) => {
        assert.ok(err instanceof McmError);
        assert.equal(err.code, 'aborted');
        assert.equal(err.operation, 'backupDataStore');
        return true;
      });
      assert.ok(Date.now() - started < 5000);
      assert.equal(getEventListeners(call.signal, 'abort').length, 0);
      // Its timer is gone too: a closed client keeps no process alive for the rest of the wait.
      assert.equal(timers(), timersBefore);
    });

    it('refuses at once when a signal is aborted already', async () => {
      const closed = new AbortController();
      closed.abort();
      const open = new AbortController();
      const started = Date.now();
      await assert.rejects(delay('listMims', 10_000, open.signal, closed.signal), (err: McmError) => err.code === 'aborted');
      assert.ok(Date.now() - started < 5000);
      assert.equal(getEventListeners(open.signal, 'abort').length, 0);
    });

    it('leaves no listener behind on a signal that outlives it', async () => {
      const clientLifetime = new AbortController();
      for (let i = 0; i < 3; i++) await delay('listMims', 1, clientLifetime.signal);
      assert.equal(getEventListeners(clientLifetime.signal, 'abort').length, 0);
    });
  });
});
