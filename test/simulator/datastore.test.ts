import assert from 'node:assert/strict';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { api, startTestSimulator, uploadTar } from '../support/simulator-helpers';

describe('simulator data store', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(async () => {
    sim.reset();
    sim.options.asyncDataStore = undefined;
    await uploadTar(sim, buildImageTar({ name: 'hello-v1' }));
    await api(sim, '/mcm/v1/mims', { method: 'POST', body: { name: 'hello', image: 'hello-v1' } });
  });

  const post = (body: unknown, id = 'api-hello') => api(sim, `/mcm/v1/mims/${encodeURIComponent(id)}/dataStore`, { method: 'POST', body });
  const poll = (id = 'api-hello') => api(sim, `/mcm/v1/mims/${encodeURIComponent(id)}/dataStore`);

  it('backs up and restores: 200 DataStoreResult, completed at once', async () => {
    const backup = await post({ action: 'backup', path: '/data/b1' });
    assert.equal(backup.status, 200);
    assert.deepEqual(
      { ...backup.json, message: typeof backup.json.message },
      { action: 'backup', status: 'completed', message: 'string', path: '/data/b1', percentage: 100 },
    );
    const restore = await post({ action: 'restore', path: '/data/b1' });
    assert.equal(restore.status, 200);
    assert.equal(restore.json.action, 'restore');
    assert.equal(restore.json.status, 'completed');
    assert.match(restore.json.message, /backup #1 of mim "api-hello"/);
    assert.deepEqual(sim.requests('dataStore')[1].body, { action: 'restore', path: '/data/b1' });
    // a sync operation can be read back too
    assert.equal((await poll()).json.status, 'completed');
  });

  it('restore from a path with no backup: status failed with a reason', async () => {
    const res = await post({ action: 'restore', path: '/nothing/here' });
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'failed');
    assert.match(res.json.message, /no backup found at \/nothing\/here/);
  });

  it('keeps backups per client id', async () => {
    await post({ action: 'backup', path: '/shared/path' });
    await uploadTar(sim, buildImageTar({ name: 'hello-v1' }), { clientId: 'other' });
    await api(sim, '/mcm/v1/mims', { method: 'POST', clientId: 'other', body: { name: 'hello', image: 'hello-v1' } });
    const res = await api(sim, '/mcm/v1/mims/other-hello/dataStore', {
      method: 'POST',
      clientId: 'other',
      body: { action: 'restore', path: '/shared/path' },
    });
    assert.equal(res.json.status, 'failed');
  });

  it('answers 400 for a bad action or a missing path, 404 for an unknown mim', async () => {
    const action = await post({ action: 'delete', path: '/p' });
    assert.equal(action.status, 400);
    assert.match(action.json.error.message, /action must be "backup" or "restore"/);
    const path = await post({ action: 'backup' });
    assert.equal(path.status, 400);
    assert.match(path.json.error.message, /path/);
    const unknown = await post({ action: 'backup', path: '/p' }, 'api-nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.message, 'mim "api-nope" not found');
    assert.equal((await poll('api-nope')).status, 404);
  });

  it('GET before any operation: 404', async () => {
    const res = await poll();
    assert.equal(res.status, 404);
    assert.match(res.json.error.message, /no data store operation/);
  });

  it('async mode: inProgress 0, each poll moves on, completed at 100', async () => {
    sim.options.asyncDataStore = true;
    const started = await post({ action: 'backup', path: '/async/b' });
    assert.equal(started.json.status, 'inProgress');
    assert.equal(started.json.percentage, 0);
    const seen: Array<[string, number]> = [];
    for (let i = 0; i < 5; i++) {
      const res = await poll();
      assert.equal(res.status, 200);
      seen.push([res.json.status, res.json.percentage]);
    }
    assert.deepEqual(seen, [
      ['inProgress', 25],
      ['inProgress', 50],
      ['inProgress', 75],
      ['completed', 100],
      ['completed', 100],
    ]);
    // the backup exists only now: a restore from it completes
    sim.options.asyncDataStore = { steps: 1 };
    assert.equal((await post({ action: 'restore', path: '/async/b' })).json.status, 'inProgress');
    assert.equal((await poll()).json.status, 'completed');
  });

  it('async mode: a restore with no backup ends failed at 100', async () => {
    sim.options.asyncDataStore = { steps: 2 };
    assert.equal((await post({ action: 'restore', path: '/none' })).json.percentage, 0);
    assert.deepEqual([(await poll()).json.status, (await poll()).json.status], ['inProgress', 'failed']);
    const last = await poll();
    assert.equal(last.json.percentage, 100);
    assert.match(last.json.message, /no backup/);
  });

  it('removing the mim forgets its operation', async () => {
    sim.options.asyncDataStore = true;
    await post({ action: 'backup', path: '/p' });
    assert.equal((await api(sim, '/mcm/v1/mims/api-hello', { method: 'DELETE' })).status, 200);
    assert.equal((await poll()).status, 404);
  });
});
