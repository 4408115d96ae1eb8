/**
 * Helpers for the client suites: a client of the simulator as they make it, and the McmError of a
 * call that must fail.
 */
import assert from 'node:assert/strict';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import type { McmSimulator } from '../../src/simulator';

/** A client of the simulator with its key; a 3 s timeout and quick retries keep failing tests short. */
export function simulatorClient(sim: McmSimulator, options: Partial<McmClientOptions> = {}): McmClient {
  return new McmClient({ url: sim.url, token: sim.key, timeoutMs: 3000, retryBaseMs: 20, ...options });
}

/** Awaits a call that must fail and returns its McmError; any other outcome fails the test. */
export async function rejects(promise: Promise<unknown>): Promise<McmError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof McmError, `expected an McmError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}
