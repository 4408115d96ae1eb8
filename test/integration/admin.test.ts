/**
 * A real Node-RED, started by the test with admin authentication on: the package's admin
 * endpoints refuse anonymous calls, test a connection with the saved credential behind the
 * password placeholder, and an exported flow never holds the token.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageTar } from '../../src/mcm/image-tar';
import { McmClient } from '../../src/mcm/client';
import { McmSimulator } from '../../src/simulator';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt = require('bcryptjs') as { hashSync(text: string, rounds: number): string };

const FLEET_OWN_KEY = 'own-key-of-member-one';
const FLEET_INSIGHT_TOKEN = 'insight-token-never-exported';

describe('a real Node-RED with admin authentication', function () {
  this.timeout(90_000);
  let sim: McmSimulator;
  let red: { url: string; stop(): Promise<void>; log(): string };
  let token: string;
  const userDir = mkdtempSync(join(tmpdir(), 'mimoe-admin-'));

  const api = (path: string, init: RequestInit = {}, auth = true) =>
    fetch(`${red.url}${path}`, {
      ...init,
      headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: `Bearer ${token}` } : {}), ...(init.headers as object) },
    });

  before(async () => {
    sim = await McmSimulator.start({ quiet: true });
    const client = new McmClient({ url: sim.url, token: sim.key });
    await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
    client.close();
    launcher.linkPackage(userDir);
    const hash = bcrypt.hashSync('test-password', 8);
    const settings = launcher.writeSettings(userDir, {
      port: 0,
      extra: `credentialSecret: 'a-test-secret', adminAuth: { type: 'credentials', users: [{ username: 'admin', password: '${hash}', permissions: '*' }] },`,
    });
    red = await launcher.startNodeRed({ userDir, settings, env: { ...process.env, MIMOE_TEST_URL: sim.url } });
    const res = await fetch(`${red.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope: '*',
        username: 'admin',
        password: 'test-password',
      }),
    });
    assert.equal(res.status, 200);
    token = ((await res.json()) as { access_token: string }).access_token;
  });
  after(async () => {
    await red?.stop();
    await sim?.stop();
  });

  const flow = () => [
    { id: 'tab1', type: 'tab', label: 'secrets' },
    { id: 'cfg1', type: 'mimoe-config', name: 'device', url: sim.url, tokenSource: 'credential', credentials: { token: sim.key } },
    { id: 'list1', type: 'mimoe-list', z: 'tab1', server: 'cfg1', resource: 'mim', x: 100, y: 100, wires: [[]] },
    {
      id: 'fleet1',
      type: 'mimoe-fleet',
      name: 'fleet',
      members: [{ name: 'one', url: sim.url }],
      discover: true,
      seedUrl: sim.url,
      includeSeed: true,
      credentials: { token: sim.key, keys: `one=${FLEET_OWN_KEY}`, insightToken: FLEET_INSIGHT_TOKEN },
    },
  ];

  it('loads every node type of the package, enabled', async () => {
    const res = await api('/nodes', { headers: { Accept: 'application/json' } });
    const sets = (await res.json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
    const ours = sets.filter((s) => s.module === launcher.packageName);
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...launcher.nodeTypes].sort());
    assert.ok(ours.every((s) => s.enabled && !s.err));
  });

  it('refuses anonymous calls to the package admin endpoints', async () => {
    sim.resetStats();
    for (const path of ['/mimoe/check', '/mimoe/resources/images', '/mimoe/resources/mims', '/mimoe/fleet/members']) {
      const res = await api(path, { method: 'POST', body: JSON.stringify({ settings: { url: sim.url }, token: sim.key }) }, false);
      assert.equal(res.status, 401, path);
    }
    assert.equal(sim.log.length, 0, 'no anonymous call reached the runtime');
  });

  it('stores the token as a credential and never exports it', async () => {
    const deployed = await api('/flows', { method: 'POST', body: JSON.stringify(flow()), headers: { 'Node-RED-Deployment-Type': 'full' } });
    assert.equal(deployed.status, 204);
    const exported = await (await api('/flows')).text();
    assert.ok(exported.includes('cfg1'));
    assert.ok(!exported.includes(sim.key), 'the exported flow holds the token');
    const onDisk = readFileSync(join(userDir, 'flows.json'), 'utf8') + readFileSync(join(userDir, 'flows_cred.json'), 'utf8');
    assert.ok(!onDisk.includes(sim.key), 'the token is stored encrypted');
    const creds = (await (await api('/credentials/mimoe-config/cfg1')).json()) as Record<string, unknown>;
    assert.deepEqual(creds, { has_token: true });
    for (const secret of [FLEET_OWN_KEY, FLEET_INSIGHT_TOKEN]) {
      assert.ok(!exported.includes(secret) && !onDisk.includes(secret), 'a fleet key is exported or stored in the clear');
    }
    const fleetCreds = (await (await api('/credentials/mimoe-fleet/fleet1')).json()) as Record<string, unknown>;
    assert.deepEqual(fleetCreds, { has_token: true, has_keys: true, has_insightToken: true });
    assert.ok(!red.log().includes(sim.key), 'the log holds the token');
  });

  it('tests a connection with the saved token behind the password placeholder', async () => {
    const ok = await api('/mimoe/check', {
      method: 'POST',
      body: JSON.stringify({ id: 'cfg1', settings: { url: sim.url }, token: '__PWRD__' }),
    });
    assert.deepEqual(await ok.json(), { ok: true, url: sim.url, mims: 0 });
    const refused = await api('/mimoe/check', { method: 'POST', body: JSON.stringify({ settings: { url: sim.url }, token: 'wrong-key' }) });
    const answer = (await refused.json()) as { ok: boolean; status: number; message: string };
    assert.equal(answer.ok, false);
    assert.equal(answer.status, 403);
    assert.match(answer.message, /^checkConnection failed: HTTP 403/);
    const unreachable = await api('/mimoe/check', {
      method: 'POST',
      body: JSON.stringify({ settings: { url: 'http://127.0.0.1:1' }, token: 'x' }),
    });
    assert.match(((await unreachable.json()) as { message: string }).message, /cannot reach the mimOE runtime \(ECONNREFUSED/);
  });

  it('reads ${VAR} references in the dialog values from the environment', async () => {
    const res = await api('/mimoe/check', {
      method: 'POST',
      body: JSON.stringify({ settings: { url: '${MIMOE_TEST_URL}' }, token: sim.key }),
    });
    assert.deepEqual(await res.json(), { ok: true, url: sim.url, mims: 0 });
  });

  it('lists live resources for autocomplete', async () => {
    const res = await api('/mimoe/resources/images', {
      method: 'POST',
      body: JSON.stringify({ id: 'cfg1', settings: { url: sim.url }, token: '__PWRD__' }),
    });
    const answer = (await res.json()) as { ok: boolean; items: Array<{ value: string }> };
    assert.equal(answer.ok, true);
    assert.deepEqual(
      answer.items.map((i) => i.value),
      ['hello-v1'],
    );
  });

  it("lists a fleet's members for the dialog, with the saved Insight token behind the placeholder", async () => {
    const res = await api('/mimoe/fleet/members', {
      method: 'POST',
      body: JSON.stringify({ id: 'fleet1', settings: { discover: true, seedUrl: sim.url, includeSeed: true }, insightToken: '__PWRD__' }),
    });
    const answer = (await res.json()) as { ok: boolean; message?: string };
    // The lone simulator's Insight wants its own token (1234 by default): the saved one is refused, by status.
    assert.equal(answer.ok, false);
    assert.match(answer.message ?? '', /^discoverMembers failed: HTTP 403/);
    assert.ok(!(answer.message ?? '').includes(FLEET_INSIGHT_TOKEN));
    const listed = await api('/mimoe/fleet/members', {
      method: 'POST',
      body: JSON.stringify({ settings: { members: [{ name: 'one', url: sim.url }], discover: true, seedUrl: sim.url, includeSeed: true } }),
    });
    assert.deepEqual(await listed.json(), { ok: true, members: [{ name: 'one', url: sim.url, source: 'listed' }] });
  });
});
