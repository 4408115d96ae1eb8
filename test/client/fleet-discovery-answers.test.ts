/**
 * FleetClient discovery against one simulator on 127.0.0.1 whose Insight lists nodes a test writes
 * (odd names, odd addresses), or answers as its fault says: members made from those nodes, the
 * seed's own entry, the requests sent, answers that cannot be used, secrets kept out of errors,
 * time limits, aborts, periodic discovery, and the sockets it leaves open.
 */
import assert from 'node:assert/strict';
import { McmError } from '../../src/mcm/errors';
import { Exchange } from '../../src/mcm/transport';
import { FleetClient, FleetClientOptions } from '../../src/mcm/fleet';
import { SimInsightNode } from '../../src/simulator';
import { useSimulator } from '../support/simulator-fixture';
import { sleep, waitFor } from '../support/simulator-helpers';

const INSIGHT_TOKEN = 'insight-token-of-the-answers-tests';

/** A node as Insight lists it, addresses given as hrefs. */
const node = (fields: Partial<Omit<SimInsightNode, 'addresses'>>, ...hrefs: string[]): SimInsightNode =>
  ({ ...fields, addresses: hrefs.map((href) => ({ type: 'local', url: { href } })) }) as SimInsightNode;

/** Sockets this process holds open (the simulator's own, in this process, included). */
const openSockets = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;

describe('FleetClient discovery: what Insight answers', function () {
  this.timeout(20_000);
  let peers: SimInsightNode[] = [];
  const seed = useSimulator({ insightToken: INSIGHT_TOKEN, insightNode: { name: 'the-seed' }, insightPeers: () => peers });
  const clients: FleetClient[] = [];

  beforeEach(() => {
    peers = [];
  });
  afterEach(() => {
    clients.splice(0).forEach((client) => client.close());
  });

  function client(options: Partial<FleetClientOptions> = {}, discovery: Partial<FleetClientOptions['discovery']> = {}): FleetClient {
    const made = new FleetClient({ token: 'unused', ...options, discovery: { seedUrl: seed().url, token: INSIGHT_TOKEN, ...discovery } });
    clients.push(made);
    return made;
  }

  const insightRequests = () =>
    seed()
      .requests()
      .filter((r) => r.route === 'insightNodes' || r.route === 'insightInfo');

  describe('members made from nodes', () => {
    it('take each node its first http(s) address, trimmed, without trailing slashes; nodes without one are left out', async () => {
      peers = [
        node({ id: 'n1', name: 'padded' }, '  http://127.0.0.1:1/  '),
        node({ id: 'n2', name: 'slashes' }, 'http://127.0.0.1:2//'),
        node({ id: 'n3', name: 'second-address' }, 'ws://127.0.0.1:3', 'HTTPS://127.0.0.1:4'),
        node({ id: 'n4', name: 'no-http' }, 'ws://127.0.0.1:5', 'not a url'),
        node({ id: 'n5', name: 'no-address' }),
      ];
      assert.deepEqual(await client().members(), [
        { name: 'padded', url: 'http://127.0.0.1:1', source: 'discovered', id: 'n1' },
        { name: 'slashes', url: 'http://127.0.0.1:2', source: 'discovered', id: 'n2' },
        { name: 'second-address', url: 'HTTPS://127.0.0.1:4', source: 'discovered', id: 'n3' },
      ]);
    });

    it('name a node by its trimmed name, else its id, else "node"; a name seen before gets the host', async () => {
      peers = [
        node({ id: 'n1', name: ' cam ' }, 'http://127.0.0.1:1'),
        node({ id: 'n2', name: 'cam' }, 'http://127.0.0.1:2'),
        node({ id: 'id-3', name: '   ' }, 'http://127.0.0.1:3'),
        node({}, 'http://127.0.0.1:4'),
        node({ name: '' }, 'http://127.0.0.1:5'),
      ];
      const members = await client().members();
      assert.deepEqual(
        members.map((m) => [m.name, m.url]),
        [
          ['cam', 'http://127.0.0.1:1'],
          ['cam@127.0.0.1:2', 'http://127.0.0.1:2'],
          ['id-3', 'http://127.0.0.1:3'],
          ['node@127.0.0.1:4', 'http://127.0.0.1:4'],
          ['node@127.0.0.1:5', 'http://127.0.0.1:5'],
        ],
      );
      assert.ok(!('id' in members[3]), 'a node without an id gives no id');
    });

    it('count a listed member once, however its URL is written', async () => {
      peers = [node({ id: 'n1', name: 'cam-1' }, 'http://127.0.0.1:1'), node({ id: 'n2', name: 'cam-2' }, 'http://127.0.0.1:2')];
      const members = await client({ members: [{ name: 'gateway', url: 'HTTP://127.0.0.1:1//' }] }).members();
      assert.deepEqual(
        members.map((m) => [m.name, m.source]),
        [
          ['gateway', 'listed'],
          ['cam-2', 'discovered'],
        ],
      );
    });
  });

  describe('the seed', () => {
    it('is asked under its base URL however that is written, and is a member at that URL', async () => {
      const members = await client({}, { seedUrl: `  ${seed().url}/mcm/v1//  `, includeSeed: true }).members();
      assert.deepEqual(members, [{ name: 'the-seed', url: seed().url, source: 'seed', id: members[0].id }]);
      assert.deepEqual(
        insightRequests().map((r) => r.url),
        ['/mimik-mesh/insight/v1/nodes?type=linkLocal', '/mimik-mesh/insight/v1/info'],
      );
    });

    it('takes its name from an answer wrapped in data, else its id, else its host', async () => {
      seed().setFault('insightInfo', { status: 200, body: { data: { id: 'wrapped-id', name: 'wrapped-name' } }, times: 1 });
      const wrapped = await client({}, { includeSeed: true }).members();
      assert.deepEqual(wrapped, [{ name: 'wrapped-name', url: seed().url, source: 'seed', id: 'wrapped-id' }]);
      seed().setFault('insightInfo', { status: 200, body: { id: 'only-an-id', name: '  ' }, times: 1 });
      assert.equal((await client({}, { includeSeed: true }).members())[0].name, 'only-an-id');
      seed().setFault('insightInfo', { status: 200, body: {}, times: 1 });
      const bare = await client({}, { includeSeed: true }).members();
      assert.deepEqual(bare, [{ name: new URL(seed().url).host, url: seed().url, source: 'seed' }]);
    });
  });

  describe('requests', () => {
    it("send JSON's Accept and Insight's token, each exchange reported", async () => {
      seed().options.logSecrets = true;
      const exchanges: Exchange[] = [];
      await client({ onExchange: (exchange) => exchanges.push(exchange) }, { includeSeed: true }).members();
      for (const request of insightRequests()) {
        assert.equal(request.headers.accept, 'application/json');
        assert.equal(request.headers.authorization, `Bearer ${INSIGHT_TOKEN}`);
      }
      assert.deepEqual(
        exchanges.map((e) => [e.operation, e.method, e.path, e.status]),
        [
          ['discoverMembers', 'GET', '/mimik-mesh/insight/v1/nodes?type=linkLocal', 200],
          ['discoverMembers', 'GET', '/mimik-mesh/insight/v1/info', 200],
        ],
      );
    });

    it("send mimOE's default token when none is given", async () => {
      seed().options.insightToken = '1234';
      seed().options.logSecrets = true;
      await client({}, { token: undefined }).members();
      assert.equal(insightRequests()[0].headers.authorization, 'Bearer 1234');
    });

    it('leave no connection open once a discovery is done', async () => {
      const before = openSockets();
      await client().members();
      await waitFor(() => openSockets() <= before, 'the sockets of the discovery closed');
    });
  });

  describe('answers that cannot be used', () => {
    const failure = async (options: Partial<FleetClientOptions> = {}): Promise<McmError> => {
      const err = await client(options)
        .members()
        .catch((e: unknown) => e);
      assert.ok(err instanceof McmError, String(err));
      assert.equal(err.operation, 'discoverMembers');
      return err;
    };

    it('a list that is not where Insight puts it', async () => {
      seed().setFault('insightNodes', { status: 200, body: { nodes: [] } });
      const err = await failure();
      assert.equal(err.code, 'bad-response');
      assert.equal(
        err.message,
        'discoverMembers failed: the runtime sent an answer that cannot be read (expected {"data": [nodes]} from /nodes)',
      );
    });

    it('JSON cut short, and an empty 2xx answer', async () => {
      seed().setFault('insightNodes', { malformed: true });
      assert.equal((await failure()).detail, 'HTTP 200 with malformed JSON');
      seed().setFault('insightNodes', { status: 204 });
      const empty = await failure();
      assert.equal(empty.code, 'bad-response');
      assert.equal(empty.detail, 'HTTP 204 with malformed JSON');
    });

    it('an answer outside 2xx, even with a list in it', async () => {
      seed().setFault('insightNodes', { status: 300, body: { data: [] } });
      const err = await failure();
      assert.equal(err.code, 'http');
      assert.equal(err.statusCode, 300);
    });

    it('an empty 503: no Insight there', async () => {
      seed().setFault('insightNodes', { status: 503, body: '  \n' });
      const err = await failure();
      assert.equal(err.code, 'no-api');
      assert.equal(err.detail, 'HTTP 503 at /mimik-mesh/insight/v1');
    });

    it("a 503 with words, and an error without words: the server's own words, or none", async () => {
      seed().setFault('insightNodes', { status: 503, body: { error: { code: 503, message: 'insight is starting' } } });
      const said = await failure();
      assert.deepEqual([said.code, said.statusCode, said.serverMessage, said.structured], ['http', 503, 'insight is starting', true]);
      assert.equal(said.message, 'discoverMembers failed: HTTP 503 insight is starting');
      seed().setFault('insightNodes', { status: 500, body: '' });
      const silent = await failure();
      assert.deepEqual([silent.code, silent.statusCode, silent.serverMessage], ['http', 500, undefined]);
    });

    it('never show the Insight token the answer echoes; the public default one is no secret', async () => {
      seed().setFault('insightNodes', { status: 500, body: `token ${INSIGHT_TOKEN} is not allowed here` });
      const err = await failure();
      assert.equal(err.statusCode, 500);
      assert.doesNotMatch(err.message, new RegExp(INSIGHT_TOKEN));
      seed().options.insightToken = '1234';
      seed().setFault('insightNodes', { status: 500, body: 'nothing listens on port 12345' });
      const plain = await client({}, { token: '' })
        .members()
        .catch((e: McmError) => e);
      assert.equal((plain as McmError).serverMessage, 'nothing listens on port 12345');
    });
  });

  describe('time limits and aborts', () => {
    it("end a discovery that gets no answer at the fleet's timeout", async () => {
      seed().setFault('insightNodes', { hang: true });
      const err = await client({ timeoutMs: 200 })
        .members()
        .catch((e: McmError) => e);
      assert.equal((err as McmError).code, 'timeout');
    });

    it("end a discovery at the caller's signal, and at close", async () => {
      seed().setFault('insightNodes', { hang: true });
      const controller = new AbortController();
      const asked = client().members({ signal: controller.signal });
      await waitFor(() => insightRequests().length === 1, 'the discovery in flight');
      controller.abort();
      await assert.rejects(asked, (err: McmError) => err.code === 'aborted');
      const closing = client();
      const pending = closing.members();
      await waitFor(() => insightRequests().length === 2, 'the second discovery in flight');
      closing.close();
      await assert.rejects(pending, (err: McmError) => err.code === 'aborted');
    });
  });

  describe('rollouts', () => {
    it('ask Insight again before choosing the devices when told to refresh', async () => {
      peers = [node({ id: 'n1', name: 'gone' }, 'http://127.0.0.1:1')];
      const fleet = client();
      assert.deepEqual(
        (await fleet.members()).map((m) => m.name),
        ['gone'],
      );
      peers = [];
      await assert.rejects(fleet.rollout({ operation: 'remove', id: 'api-hello' }, { refresh: true }), (err: Error) => {
        assert.match(err.message, /the fleet has no members/);
        return true;
      });
      assert.equal(seed().requests('insightNodes').length, 2);
      assert.deepEqual(fleet.known, []);
    });

    it("end a discovery they wait for at the rollout's signal", async () => {
      seed().setFault('insightNodes', { hang: true });
      const controller = new AbortController();
      const running = client().rollout({ operation: 'remove', id: 'api-hello' }, { signal: controller.signal });
      await waitFor(() => insightRequests().length === 1, 'the discovery in flight');
      controller.abort();
      await assert.rejects(running, (err: McmError) => err.code === 'aborted' && err.operation === 'discoverMembers');
    });
  });

  describe('periodic discovery', () => {
    it('starts only on the first need when no positive interval is set', async () => {
      for (const intervalMs of [undefined, 0, -100]) {
        const lazy = client({}, { intervalMs });
        await sleep(150);
        assert.equal(insightRequests().length, 0, `interval ${intervalMs}`);
        assert.deepEqual(lazy.known, []);
      }
    });

    it('reports a failed round but not the one close ended, and asks no more after close', async () => {
      const errors: unknown[] = [];
      seed().setFault('insightNodes', { status: 500, times: 1 });
      const periodic = client({ onDiscoveryError: (err) => errors.push(err) }, { intervalMs: 50 });
      await waitFor(() => errors.length === 1, 'the failed round reported');
      assert.match(String(errors[0]), /discoverMembers failed: HTTP 500/);
      seed().setFault('insightNodes', { hang: true });
      await waitFor(
        () =>
          seed()
            .requests('insightNodes')
            .some((r) => r.status === 0),
        'a round in flight',
      );
      const asked = insightRequests().length;
      periodic.close();
      await sleep(300);
      assert.equal(errors.length, 1, 'the round close ended is not an error');
      assert.equal(insightRequests().length, asked, 'no round after close');
    });

    it('keeps going without an error handler', async () => {
      seed().setFault('insightNodes', { status: 500, times: 2 });
      const unhandled: unknown[] = [];
      const note = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', note);
      try {
        const periodic = client({}, { intervalMs: 30 });
        peers = [node({ id: 'n1', name: 'late' }, 'http://127.0.0.1:1')];
        await waitFor(() => periodic.known.length === 1, 'a round that worked after two that failed');
        assert.deepEqual(unhandled, []);
      } finally {
        process.off('unhandledRejection', note);
      }
    });
  });
});
