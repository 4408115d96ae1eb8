/**
 * A proxy named by an IPv6 address ([::1]), for an http runtime (absolute-form requests) and an
 * https one (a CONNECT tunnel): the brackets belong to the URL, not to the address Node connects
 * to. A relay on [::1] passes the bytes to a recording proxy on 127.0.0.1, which maps a made-up
 * device name to the simulator, so no name is ever looked up.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { McmClient } from '../../src/mcm/client';
import { RecordingProxy } from '../support/proxy';
import { useSimulator } from '../support/simulator-fixture';
import { makeCertificate } from '../support/tls';

const DEVICE = 'mimoe-device.test';

/** Listens on [::1] and pipes every connection to a port of 127.0.0.1. */
async function ipv6Relay(targetPort: number): Promise<net.Server> {
  const relay = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => relay.once('error', reject).listen(0, '::1', resolve));
  return relay;
}

describe('a proxy at an IPv6 address', function () {
  this.timeout(20_000);
  let cert: ReturnType<typeof makeCertificate>;
  const sim = useSimulator(() => {
    cert = makeCertificate([DEVICE]);
    return { tls: { key: cert.key, cert: cert.cert } };
  });
  const plainSim = useSimulator();
  let proxy: RecordingProxy;
  let relay: net.Server;
  let client: McmClient | undefined;
  const proxyUrl = () => `http://[::1]:${(relay.address() as net.AddressInfo).port}`;

  before(async function () {
    proxy = await RecordingProxy.start({ [`${DEVICE}:${sim().port}`]: sim().port, [`${DEVICE}:${plainSim().port}`]: plainSim().port });
    try {
      relay = await ipv6Relay(Number(new URL(proxy.url).port));
    } catch {
      await proxy.stop();
      this.skip(); // no IPv6 loopback on this machine
    }
  });
  after(async () => {
    relay?.close();
    await proxy?.stop();
  });
  afterEach(() => {
    client?.close();
    client = undefined;
    proxy.seen.length = 0;
  });

  it('carries an http runtime’s calls as absolute-form requests', async () => {
    const url = `http://${DEVICE}:${plainSim().port}`;
    client = new McmClient({ url, token: plainSim().key, retries: 0, proxy: { url: proxyUrl() } });
    assert.deepEqual(await client.listMims(), []);
    assert.deepEqual(
      proxy.seen.map((r) => [r.method, r.target]),
      [['GET', `${url}/mcm/v1/mims`]],
    );
    assert.equal(plainSim().requests('listMims').length, 1);
  });

  it('opens an https runtime’s tunnel', async () => {
    client = new McmClient({
      url: `https://${DEVICE}:${sim().port}`,
      token: sim().key,
      retries: 0,
      tls: { ca: cert.cert },
      proxy: { url: proxyUrl() },
    });
    assert.deepEqual(await client.listMims(), []);
    assert.deepEqual(
      proxy.seen.map((r) => [r.method, r.target]),
      [['CONNECT', `${DEVICE}:${sim().port}`]],
    );
    assert.equal(sim().requests('listMims').length, 1);
  });
});
