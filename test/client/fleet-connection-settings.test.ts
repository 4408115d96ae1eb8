/**
 * The TLS and proxy settings of a fleet's own requests (discovery and health checks), against
 * simulators on 127.0.0.1: an https simulator with a throwaway certificate, and a recording proxy
 * that maps a made-up seed name to a simulator, so no name is ever looked up.
 */
import assert from 'node:assert/strict';
import { McmClient } from '../../src/mcm/client';
import { McmError } from '../../src/mcm/errors';
import { FleetClient, FleetClientOptions } from '../../src/mcm/fleet';
import { buildImageTar } from '../../src/wire/image-tar';
import { RecordingProxy } from '../support/proxy';
import { useSimulator } from '../support/simulator-fixture';
import { makeCertificate, TestCertificate } from '../support/tls';

const INSIGHT_TOKEN = 'insight-token-of-the-settings-tests';
const SEED = 'fleet-seed.test';

describe('FleetClient connection settings for discovery and health checks', function () {
  this.timeout(20_000);
  const clients: FleetClient[] = [];
  afterEach(() => {
    clients.splice(0).forEach((client) => client.close());
  });
  const make = (options: FleetClientOptions): FleetClient => {
    const made = new FleetClient(options);
    clients.push(made);
    return made;
  };

  describe('TLS', () => {
    let cert: TestCertificate;
    const secure = useSimulator(() => {
      cert = makeCertificate();
      return { tls: { key: cert.key, cert: cert.cert }, insightToken: INSIGHT_TOKEN, profile: 'contract' };
    });
    const discovery = () => ({ seedUrl: secure().url, token: INSIGHT_TOKEN, includeSeed: true });

    it("trusts the fleet's own TLS settings before those of the members' clients", async () => {
      const members = await make({
        discovery: discovery(),
        tls: { ca: cert.cert },
        client: { tls: { rejectUnauthorized: true } },
      }).members();
      assert.equal(members[0].url, secure().url);
    });

    it("takes the members' TLS settings when the fleet has none", async () => {
      const members = await make({ discovery: discovery(), client: { tls: { ca: cert.cert } } }).members();
      assert.equal(members[0].source, 'seed');
      const untrusted = await make({ discovery: discovery() })
        .members()
        .catch((e: McmError) => e);
      assert.equal((untrusted as McmError).code, 'tls', 'a self-signed certificate is refused without them');
    });

    it('checks the health of mims on an https runtime with the same settings', async () => {
      const setup = new McmClient({ url: secure().url, token: secure().key, tls: { ca: cert.cert } });
      await setup.uploadImage(buildImageTar({ name: 'hello-v1' }));
      setup.close();
      const result = await make({
        members: [{ name: 'secure', url: secure().url }],
        token: secure().key,
        tls: { ca: cert.cert },
        client: { tls: { ca: cert.cert } },
      }).rollout(
        { operation: 'deploy', spec: { name: 'hello', image: 'hello-v1', env: { 'MCM.BASE_API_PATH': '/hello/v1' } } },
        { health: { timeoutMs: 3000, intervalMs: 20 } },
      );
      assert.equal(result.succeeded, 1, result.devices[0].error);
      assert.deepEqual(
        secure()
          .requests('mimApi')
          .map((r) => r.status),
        [200],
      );
    });
  });

  describe('proxy', () => {
    const sim = useSimulator({ insightToken: INSIGHT_TOKEN });
    const USER = 'fleet-user';
    const PASSWORD = 'proxy-password-of-the-fleet';
    let proxy: RecordingProxy;
    let closedProxyUrl: string;

    before(async () => {
      proxy = await RecordingProxy.start(
        { [`${SEED}:${sim().port}`]: sim().port },
        `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
      );
      const closed = await RecordingProxy.start({});
      closedProxyUrl = closed.url;
      await closed.stop();
    });
    after(async () => {
      await proxy.stop();
    });
    beforeEach(() => {
      proxy.seen.length = 0;
    });

    const discovery = () => ({ seedUrl: `http://${SEED}:${sim().port}`, token: INSIGHT_TOKEN, includeSeed: true });
    const viaProxy = () => ({ url: proxy.url, username: USER, password: PASSWORD });

    it("goes through the fleet's own proxy before that of the members' clients", async () => {
      const members = await make({ discovery: discovery(), proxy: viaProxy(), client: { proxy: { url: closedProxyUrl } } }).members();
      assert.equal(members[0].url, `http://${SEED}:${sim().port}`);
      assert.deepEqual(
        proxy.seen.map((r) => r.target),
        [
          `http://${SEED}:${sim().port}/mimik-mesh/insight/v1/nodes?type=linkLocal`,
          `http://${SEED}:${sim().port}/mimik-mesh/insight/v1/info`,
        ],
      );
    });

    it("takes the members' proxy when the fleet has none", async () => {
      await make({ discovery: discovery(), client: { proxy: viaProxy() } }).members();
      assert.equal(proxy.seen.length, 2);
    });

    it('says what the proxy answered when it opens no tunnel to an https seed', async () => {
      const err = await make({ discovery: { seedUrl: 'https://unknown-seed.test:8083' }, proxy: viaProxy() })
        .members()
        .catch((e: McmError) => e);
      assert.equal((err as McmError).code, 'unreachable');
      assert.match((err as McmError).message, /answered HTTP 502 to the tunnel request \(CONNECT\) for unknown-seed\.test:8083/);
    });

    it("never shows the proxy's password, even when an answer echoes it", async () => {
      sim().setFault('insightNodes', { status: 500, body: `refused for ${USER}:${PASSWORD}` });
      const err = await make({ discovery: discovery(), proxy: viaProxy() })
        .members()
        .catch((e: McmError) => e);
      assert.ok(err instanceof McmError);
      assert.equal(err.statusCode, 500);
      assert.match(err.message, /refused for fleet-user/);
      assert.doesNotMatch(err.message, new RegExp(PASSWORD));
    });
  });
});
