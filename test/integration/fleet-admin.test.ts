/**
 * A real Node-RED with admin authentication and a deployed mimoe-fleet: its keys and Insight token
 * are stored encrypted and never exported, and the dialog's Show members route follows the rules of
 * the other editor routes: permission and JSON only, the stored Insight token only to the deployed
 * seed with the deployed TLS, accept self-signed and proxy settings, `${VAR}` only as deployed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McmFleet, McmSimulator } from '../../src/simulator';
import { RecordingProxy } from '../support/proxy';
import { makeCertificate } from '../support/tls';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt = require('bcryptjs') as { hashSync(text: string, rounds: number): string };

const INSIGHT_TOKEN = 'insight-token/+=of-the-fleet';
const OWN_KEY = 'own-key/+=of-device-02';
const PLACEHOLDER = '__PWRD__';

describe('mimoe-fleet in a real Node-RED with admin authentication', function () {
  this.timeout(90_000);
  let fleet: McmFleet;
  /** A runtime the stored token must never reach. */
  let elsewhere: McmSimulator;
  /** https runtimes with a certificate of their own, trusted through a deployed tls-config node. */
  let httpsFleet: McmFleet;
  /** Knows the first device of `fleet` by a made-up host name; the deployed proxy node points here. */
  let proxy: RecordingProxy;
  let proxiedSeed: string;
  let red: import('../../scripts/node-red-launcher').RunningNodeRed;
  let userDir: string;
  let bearer: string;

  const post = async (body: unknown, auth = true, type = 'application/json') => {
    const res = await fetch(`${red.url}/mimoe/fleet/members`, {
      method: 'POST',
      headers: { 'Content-Type': type, ...(auth ? { Authorization: `Bearer ${bearer}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(!text.includes(INSIGHT_TOKEN) && !text.includes(OWN_KEY) && !text.includes(fleet.key), `a secret in the answer: ${text}`);
    return { status: res.status, json: JSON.parse(text) as Record<string, any> };
  };

  before(async () => {
    fleet = await McmFleet.start({ size: 3, quiet: true, insightToken: INSIGHT_TOKEN });
    elsewhere = await McmSimulator.start({ quiet: true, insightToken: INSIGHT_TOKEN });
    const cert = makeCertificate();
    httpsFleet = await McmFleet.start({ size: 2, quiet: true, insightToken: INSIGHT_TOKEN, tls: { key: cert.key, cert: cert.cert } });
    proxiedSeed = `http://seed.fleet.test:${fleet.devices[0].port}`;
    proxy = await RecordingProxy.start({ [`seed.fleet.test:${fleet.devices[0].port}`]: fleet.devices[0].port });
    userDir = mkdtempSync(join(tmpdir(), 'mimoe-fleet-admin-'));
    launcher.linkPackage(userDir);
    const hash = bcrypt.hashSync('test-password', 8);
    const settings = launcher.writeSettings(userDir, {
      port: 0,
      extra: `credentialSecret: 'a-test-secret', adminAuth: { type: 'credentials', users: [{ username: 'admin', password: '${hash}', permissions: '*' }] },`,
    });
    red = await launcher.startNodeRed({ userDir, settings, env: { ...process.env, MIMOE_TEST_SEED: fleet.urls[0] } });
    const token = await fetch(`${red.url}/auth/token`, {
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
    bearer = ((await token.json()) as { access_token: string }).access_token;
    const flow = [
      {
        id: 'fleet1',
        type: 'mimoe-fleet',
        name: 'fleet',
        members: [],
        discover: true,
        seedUrl: fleet.urls[0],
        includeSeed: true,
        credentials: { token: fleet.key, keys: `device-02=${OWN_KEY}`, insightToken: INSIGHT_TOKEN },
      },
      { id: 'ca1', type: 'tls-config', cert: '', key: '', ca: cert.certFile, verifyservercert: true },
      { id: 'proxy1', type: 'http proxy', url: proxy.url, noproxy: [] },
      {
        id: 'fleetTls',
        type: 'mimoe-fleet',
        members: [],
        discover: true,
        seedUrl: httpsFleet.urls[0],
        includeSeed: true,
        tls: 'ca1',
        credentials: { insightToken: INSIGHT_TOKEN },
      },
      {
        id: 'fleetProxy',
        type: 'mimoe-fleet',
        members: [],
        discover: true,
        seedUrl: proxiedSeed,
        includeSeed: true,
        proxy: 'proxy1',
        credentials: { insightToken: INSIGHT_TOKEN },
      },
    ];
    const deployed = await fetch(`${red.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}`, 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow),
    });
    assert.equal(deployed.status, 204);
  });
  after(async () => {
    await red?.stop();
    await fleet?.stop();
    await elsewhere?.stop();
    await httpsFleet?.stop();
    await proxy?.stop();
  });

  it('stores every key and the Insight token encrypted, and never exports them', async () => {
    const exported = await (await fetch(`${red.url}/flows`, { headers: { Authorization: `Bearer ${bearer}` } })).text();
    assert.ok(exported.includes('fleet1'));
    const onDisk = readFileSync(join(userDir, 'flows.json'), 'utf8') + readFileSync(join(userDir, 'flows_cred.json'), 'utf8');
    for (const secret of [fleet.key, OWN_KEY, INSIGHT_TOKEN]) {
      assert.ok(!exported.includes(secret), 'a secret in the exported flow');
      assert.ok(!onDisk.includes(secret), 'a secret stored in the clear');
      assert.ok(!red.log().includes(secret), 'a secret in the log');
    }
    const creds = await (
      await fetch(`${red.url}/credentials/mimoe-fleet/fleet1`, { headers: { Authorization: `Bearer ${bearer}` } })
    ).json();
    assert.deepEqual(creds, { has_token: true, has_keys: true, has_insightToken: true });
  });

  it('refuses anonymous and non-JSON calls', async () => {
    const body = { settings: { discover: true, seedUrl: fleet.urls[0] }, insightToken: INSIGHT_TOKEN };
    assert.equal((await fetch(`${red.url}/mimoe/fleet/members`, { method: 'POST', body: JSON.stringify(body) })).status, 401);
    const form = await post(new URLSearchParams({ seedUrl: fleet.urls[0] }).toString(), true, 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415);
  });

  it('lists the members with the stored Insight token, to the deployed seed only', async () => {
    const settings = { discover: true, seedUrl: fleet.urls[0], includeSeed: true };
    const listed = await post({ id: 'fleet1', settings, insightToken: PLACEHOLDER });
    assert.deepEqual(listed.json, {
      ok: true,
      members: fleet.devices.map((d, i) => ({ name: d.name, url: d.url, source: i === 0 ? 'seed' : 'discovered' })),
    });
    elsewhere.resetStats();
    const refused = await post({ id: 'fleet1', settings: { ...settings, seedUrl: elsewhere.url }, insightToken: PLACEHOLDER });
    assert.equal(refused.json.ok, false);
    assert.equal(refused.json.code, 'MCM_EDITOR_REFUSED');
    assert.match(refused.json.message, /the stored Insight token is sent only to the deployed seed URL/);
    assert.deepEqual(elsewhere.requests(), [], 'nothing reached the other runtime');
    const typed = await post({ settings: { ...settings, seedUrl: elsewhere.url }, insightToken: INSIGHT_TOKEN });
    assert.deepEqual(typed.json, { ok: true, members: [{ name: 'mcm-simulator', url: elsewhere.url, source: 'seed' }] });
  });

  it('reads ${VAR} only as deployed, and describes a refused token by its status', async () => {
    const env = await post({ id: 'fleet1', settings: { discover: true, seedUrl: '${MIMOE_TEST_SEED}' }, insightToken: 'x' });
    assert.equal(env.json.code, 'MCM_EDITOR_REFUSED');
    assert.match(env.json.message, /Seed URL holds a \$\{…\} reference/);
    const wrong = await post({ settings: { discover: true, seedUrl: fleet.urls[0] }, insightToken: 'not-the-insight-token' });
    assert.equal(wrong.json.ok, false);
    assert.equal(wrong.json.status, 403);
    assert.match(wrong.json.message, /^the seed refused the Insight token \(HTTP 403 .*\): check the Insight token$/);
  });

  it('uses the stored Insight token only with the deployed TLS, accept self-signed and proxy settings', async () => {
    const seedSaw = () => [...fleet.devices, ...httpsFleet.devices].flatMap((d) => d.sim.requests().filter((r) => r.route !== 'control'));
    const tlsSettings = { discover: true, seedUrl: httpsFleet.urls[0], includeSeed: true, tls: 'ca1' };
    const deployed = await post({ id: 'fleetTls', settings: tlsSettings, insightToken: PLACEHOLDER });
    assert.deepEqual(deployed.json, {
      ok: true,
      members: httpsFleet.devices.map((d, i) => ({ name: d.name, url: d.url, source: i === 0 ? 'seed' : 'discovered' })),
    });
    const proxied = await post({
      id: 'fleetProxy',
      settings: { discover: true, seedUrl: proxiedSeed, includeSeed: true, proxy: 'proxy1' },
      insightToken: PLACEHOLDER,
    });
    assert.equal(proxied.json.ok, true, proxied.json.message);
    assert.deepEqual(proxied.json.members[0], { name: 'device-01', url: proxiedSeed, source: 'seed' });
    assert.deepEqual(
      proxy.seen.map((r) => `${r.method} ${r.target}`),
      [`GET ${proxiedSeed}/mimik-mesh/insight/v1/nodes?type=linkLocal`, `GET ${proxiedSeed}/mimik-mesh/insight/v1/info`],
    );

    for (const device of [...fleet.devices, ...httpsFleet.devices]) device.sim.resetStats();
    proxy.seen.length = 0;
    const changed: Array<[string, Record<string, unknown>]> = [
      ['fleetTls', { ...tlsSettings, tls: '' }],
      ['fleetTls', { ...tlsSettings, insecure: true }],
      ['fleetTls', { ...tlsSettings, proxy: 'proxy1' }],
      ['fleet1', { discover: true, seedUrl: fleet.urls[0], tls: 'ca1' }],
      ['fleet1', { discover: true, seedUrl: fleet.urls[0], insecure: true }],
      ['fleet1', { discover: true, seedUrl: fleet.urls[0], proxy: 'proxy1' }],
      ['fleetProxy', { discover: true, seedUrl: proxiedSeed, includeSeed: true }],
    ];
    for (const [id, settings] of changed) {
      const refused = await post({ id, settings, insightToken: PLACEHOLDER });
      assert.equal(refused.json.code, 'MCM_EDITOR_REFUSED', `${id} ${JSON.stringify(settings)}: ${JSON.stringify(refused.json)}`);
      assert.match(
        refused.json.message,
        /the stored Insight token is sent only to the deployed seed URL, with the deployed TLS and proxy settings/,
      );
    }
    assert.deepEqual(seedSaw(), [], 'nothing reached a seed');
    assert.deepEqual(proxy.seen, [], 'nothing reached the proxy');
  });

  it('with the token typed again, the TLS settings in the dialog decide how the seed is reached', async () => {
    const settings = { discover: true, seedUrl: httpsFleet.urls[0], includeSeed: false };
    const unverified = await post({ id: 'fleetTls', settings, insightToken: INSIGHT_TOKEN });
    assert.equal(unverified.json.ok, false);
    assert.equal(unverified.json.code, 'MCM_TLS');
    assert.match(
      unverified.json.message,
      /^the certificate of 127\.0\.0\.1:\d+ is self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\): choose its CA under TLS, or accept self-signed/,
    );
    const insecure = await post({ id: 'fleetTls', settings: { ...settings, insecure: true }, insightToken: INSIGHT_TOKEN });
    assert.deepEqual(insecure.json, { ok: true, members: [{ name: 'device-02', url: httpsFleet.urls[1], source: 'discovered' }] });
  });
});
