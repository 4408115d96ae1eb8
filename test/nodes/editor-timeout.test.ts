/**
 * The editor's routes wait as long as the dialog's Timeout says, at most 10 s (a person is
 * waiting): Test connection and autocomplete (mimoe-config) and Show members (mimoe-fleet) alike.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { helper, loadFlow } from '../support/nodes';
import { listenOnLoopback } from '../support/loopback-server';

describe("the editor routes wait for the dialog's timeout", () => {
  /** A server that accepts connections and never answers. */
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => sockets.push(socket));
  let silentUrl: string;

  before(async () => {
    silentUrl = await listenOnLoopback(silent);
  });
  after(async () => {
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
  });
  beforeEach(() => loadFlow([]));
  afterEach(() => helper.unload());

  const post = async (path: string, body: object): Promise<Record<string, unknown>> =>
    (await helper.request().post(path).send(body).expect(200)).body as Record<string, unknown>;

  it('Show members: a seed that never answers fails after the posted timeout', async () => {
    const answer = await post('/mimoe/fleet/members', {
      settings: { members: [], discover: true, seedUrl: silentUrl, timeout: '1' },
      insightToken: 'typed-token',
    });
    assert.equal(answer.ok, false);
    assert.equal(answer.code, 'MCM_TIMEOUT', JSON.stringify(answer));
    assert.match(String(answer.message), /\bfor 1 s\b/);
  });

  it('autocomplete (mimoe-config): a runtime that never answers fails after the same posted timeout', async () => {
    const answer = await post('/mimoe/resources/mims', { settings: { url: silentUrl, timeout: 1 }, token: 'typed-key' });
    assert.equal(answer.code, 'MCM_TIMEOUT', JSON.stringify(answer));
    assert.match(String(answer.message), /\bfor 1 s\b/);
  });
});
