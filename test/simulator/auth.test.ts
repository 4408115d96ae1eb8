import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator, startSimulator } from '../../src/simulator';
import { TEST_KEY, api, startTestSimulator, tempDir, uploadTar } from '../support/simulator-helpers';

describe('simulator auth and client ids', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator({ tokens: { 'jwt-of-team-a': 'team-a' } });
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());

  it('answers 403 (never 401) with an error body to a missing, wrong or malformed key', async () => {
    const cases: Array<[Record<string, string> | undefined, string | null]> = [
      [undefined, null],
      [undefined, 'wrong-key'],
      [{ authorization: `Basic ${TEST_KEY}` }, null],
      [{ authorization: `Bearer` }, null],
    ];
    for (const [headers, token] of cases) {
      const res = await api(sim, '/mcm/v1/mims', { token, headers });
      assert.equal(res.status, 403, JSON.stringify(headers ?? token));
      assert.equal(res.json.error.code, 403);
      assert.match(res.json.error.message, /API key/);
    }
    assert.ok(sim.requests().every((e) => e.status === 403 && e.clientId === ''));
  });

  it('refuses before any route work: no fault is consumed and nothing changes', async () => {
    sim.setFault('deployMim', { status: 503, times: 1 });
    const res = await api(sim, '/mcm/v1/mims', { method: 'POST', token: 'nope', body: { name: 'a', image: 'b' } });
    assert.equal(res.status, 403);
    assert.equal((await api(sim, '/mcm/v1/mims', { method: 'POST', body: { name: 'a', image: 'b' } })).status, 503);
  });

  it('accepts the key (client id "api") and extra tokens (their own client id)', async () => {
    assert.equal((await api(sim, '/mcm/v1/mims')).status, 200);
    assert.equal((await uploadTar(sim, buildImageTar({ name: 'img' }), { token: 'jwt-of-team-a' })).status, 201);
    assert.deepEqual(
      sim.images().map((i) => [i.id, i.name]),
      [['team-a-img', 'img']],
    );
    assert.deepEqual(
      sim.requests().map((e) => e.clientId),
      ['api', 'team-a'],
    );
  });

  it('scopes everything to the client id from x-client-id', async () => {
    const tar = buildImageTar({ name: 'shared-name' });
    await uploadTar(sim, tar, { clientId: 'alice' });
    await uploadTar(sim, tar, { clientId: 'bob' });
    const deployed = await api(sim, '/mcm/v1/mims', { method: 'POST', clientId: 'alice', body: { name: 'm', image: 'shared-name' } });
    assert.equal(deployed.json.id, 'alice-m');
    assert.equal(deployed.json.clientId, 'alice');
    // bob sees only his own objects, and alice's ids do not exist for him
    assert.deepEqual((await api(sim, '/mcm/v1/mims', { clientId: 'bob' })).json, { data: [] });
    assert.deepEqual(
      (await api(sim, '/mcm/v1/images', { clientId: 'bob' })).json.data.map((i: { id: string }) => i.id),
      ['bob-shared-name'],
    );
    assert.equal((await api(sim, '/mcm/v1/mims/alice-m', { method: 'DELETE', clientId: 'bob' })).status, 404);
    assert.equal((await api(sim, '/mcm/v1/images/alice-shared-name', { method: 'DELETE', clientId: 'bob' })).status, 404);
    // the key without x-client-id is client "api", which has nothing
    assert.deepEqual((await api(sim, '/mcm/v1/images')).json, { data: [] });
    assert.equal(sim.mims('alice').length, 1);
    assert.equal(sim.images().length, 2);
    assert.equal(sim.images('bob').length, 1);
    assert.deepEqual(sim.mims('nobody'), []);
  });

  it('rotateKey: the old key gets 403 at once, the new one works', async () => {
    const old = sim.key;
    const fresh = sim.rotateKey();
    assert.notEqual(fresh, old);
    assert.equal(sim.key, fresh);
    assert.ok(fresh.length >= 20);
    assert.equal((await api(sim, '/mcm/v1/mims', { token: old })).status, 403);
    assert.equal((await api(sim, '/mcm/v1/mims', { token: fresh })).status, 200);
    assert.equal(sim.rotateKey(TEST_KEY), TEST_KEY);
    assert.equal((await api(sim, '/mcm/v1/mims')).status, 200);
  });

  describe('key file', () => {
    it('writes a generated key to a missing key file, with a comment line', async () => {
      const file = join(tempDir(), 'sub', 'mimoe-api-key.env');
      const s = await startSimulator({ keyFile: file, quiet: true });
      try {
        const text = readFileSync(file, 'utf8');
        assert.match(text, /^#/);
        assert.ok(text.includes(`MCM_API_KEY=${s.key}\n`));
        assert.ok(s.key.length >= 20);
        assert.equal((await api(s, '/mcm/v1/mims')).status, 200);
      } finally {
        await s.stop();
      }
    });

    it('reads MCM_API_KEY from an existing file, skipping comments and other keys', async () => {
      const file = join(tempDir(), 'mimoe-api-key.env');
      const original = '# written by mimOE\n# MCM_API_KEY=commented-out\nACCOUNT_API_KEY=acct\nMCM_API_KEY=from-the-file\n';
      writeFileSync(file, original);
      const s = await startSimulator({ keyFile: file, quiet: true });
      try {
        assert.equal(s.key, 'from-the-file');
        assert.equal(readFileSync(file, 'utf8'), original, 'the file is left alone');
        assert.equal((await api(s, '/mcm/v1/mims', { token: 'from-the-file' })).status, 200);
      } finally {
        await s.stop();
      }
    });

    it('rotateKey rewrites the key file, keeping its other lines', async () => {
      const file = join(tempDir(), 'mimoe-api-key.env');
      writeFileSync(file, '# note\nACCOUNT_API_KEY=acct\nMCM_API_KEY=first\n');
      const s = await startSimulator({ keyFile: file, quiet: true });
      try {
        const next = s.rotateKey('second');
        assert.equal(next, 'second');
        assert.equal(readFileSync(file, 'utf8'), '# note\nACCOUNT_API_KEY=acct\nMCM_API_KEY=second\n');
        const random = s.rotateKey();
        assert.ok(readFileSync(file, 'utf8').includes(`MCM_API_KEY=${random}\n`));
      } finally {
        await s.stop();
      }
    });

    it('an explicit key wins over the file and is written to it', async () => {
      const file = join(tempDir(), 'mimoe-api-key.env');
      writeFileSync(file, 'MCM_API_KEY=stale\n');
      const s = await startSimulator({ keyFile: file, key: 'explicit', quiet: true });
      try {
        assert.equal(s.key, 'explicit');
        assert.equal(readFileSync(file, 'utf8'), 'MCM_API_KEY=explicit\n');
      } finally {
        await s.stop();
      }
    });
  });
});
