/**
 * What the client makes of answers that are not the plain contract: creates answered without the
 * object (found in the list instead), wrapped objects, data store answers that cannot be followed
 * or that fail without a message, error texts, and the operation each error names.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { McmClient, McmClientOptions } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import { rejects, simulatorClient } from '../support/client';
import { useSimulator } from '../support/simulator-fixture';
import { closeServer, listenOnLoopback } from '../support/loopback-server';
import { simulatorProfile, waitFor } from '../support/simulator-helpers';

describe('McmClient answers', function () {
  this.timeout(20_000);
  const sim = useSimulator();
  let client: McmClient | undefined;
  const make = (options: Partial<McmClientOptions> = {}) => (client = simulatorClient(sim(), options));
  /** Mims of these names, deployed from the image `img`. */
  const deployed = async (...names: string[]) => {
    await client!.uploadImage(buildImageTar({ name: 'img' }));
    for (const name of names) await client!.deployMim(name, 'img');
  };

  afterEach(() => {
    client?.close();
    client = undefined;
  });

  describe('creates answered without the object', () => {
    it('a deploy answered without the mim takes the listed mim of that name, not another', async () => {
      make();
      await deployed('first', 'second');
      sim().setFault('deployMim', { status: 201, body: '' });
      const mim = await client!.deployMim('second', 'img');
      assert.equal(mim.name, 'second');
      assert.equal(
        mim.id,
        sim()
          .mims()
          .find((m) => m.name === 'second')!.id,
      );
    });

    it('a deploy answered with another mim in a list looks for its own in the list', async () => {
      make();
      await deployed('mine');
      const listed = sim().requests('listMims').length;
      sim().setFault('deployMim', { status: 200, body: { data: [{ id: 'api-other', name: 'other' }] } });
      const mim = await client!.deployMim('mine', 'img');
      assert.equal(mim.name, 'mine');
      assert.equal(sim().requests('listMims').length, listed + 1);
    });

    it('a deploy answered with one unnamed mim takes it as this one', async () => {
      sim().setFault('deployMim', { status: 201, body: { id: 'api-unnamed', state: 'started' } });
      const mim = await make().deployMim('named-here', 'img');
      assert.deepEqual([mim.id, mim.name], ['api-unnamed', 'named-here']);
      assert.equal(sim().requests('listMims').length, 0);
    });

    it('a deploy answered {data: {...}} unwraps it', async () => {
      sim().setFault('deployMim', { status: 201, body: { data: { id: 'api-wrapped', name: 'wrapped' } } });
      const mim = await make().deployMim('wrapped', 'img');
      assert.equal(mim.id, 'api-wrapped');
      assert.equal(sim().requests('listMims').length, 0);
    });

    it('a deploy of a mim that is nowhere to be found says so', async () => {
      sim().setFault('deployMim', { status: 201, body: '' });
      const error = await rejects(make().deployMim('ghost', 'img'));
      assert.equal(error.code, 'bad-response');
      assert.match(error.message, /^deployMim failed: .*\(HTTP 201 without the mim, and "ghost" is not listed\)$/);
    });

    it('a composition answered in full asks no list', async () => {
      sim().setFault('deployComposition', {
        status: 201,
        body: [
          { id: 'api-b', name: 'b' },
          { id: 'api-a', name: 'a' },
        ],
      });
      const mims = await make().deployComposition([
        { name: 'a', image: 'img' },
        { name: 'b', image: 'img' },
      ]);
      assert.deepEqual(
        mims.map((m) => m.id),
        ['api-a', 'api-b'],
      );
      assert.equal(sim().requests('listMims').length, 0);
    });

    it('a composition answered in part finds the rest in the list, and names what is missing', async () => {
      make();
      await deployed('listed');
      sim().setFault('deployComposition', { status: 200, body: [{ id: 'api-answered', name: 'answered' }] });
      const mims = await client!.deployComposition([
        { name: 'answered', image: 'img' },
        { name: 'listed', image: 'img' },
      ]);
      assert.deepEqual(
        mims.map((m) => m.name),
        ['answered', 'listed'],
      );
      const error = await rejects(
        client!.deployComposition([
          { name: 'answered', image: 'img' },
          { name: 'x', image: 'img' },
          { name: 'y', image: 'img' },
        ]),
      );
      assert.equal(error.operation, 'deployComposition');
      assert.match(error.message, /^deployComposition failed: .*\(HTTP 200 without "x", "y", and not listed\)$/);
    });

    it('an upload answered {data: {...}} unwraps it; one with its own id is taken as it is', async () => {
      sim().setFault('uploadImage', { status: 201, body: { data: { id: 'api-inner', name: 'inner' } }, times: 1 });
      const inner = await make().uploadImage(buildImageTar({ name: 'inner' }));
      assert.equal(inner.id, 'api-inner');
      sim().setFault('uploadImage', { status: 201, body: { id: 'api-outer', name: 'outer', data: { id: 'api-inner' } }, times: 1 });
      const outer = await client!.uploadImage(buildImageTar({ name: 'outer' }));
      assert.equal(outer.id, 'api-outer');
      assert.equal(sim().requests('listImages').length, 0);
    });

    it('an upload answered without the image, of a tar that names none, says so', async () => {
      sim().setFault('uploadImage', { status: 201, body: '' });
      const tar = buildImageTar({ name: 'nameless' });
      // A tar of the right size with no manifest in it.
      const blank = Buffer.alloc(tar.length);
      const error = await rejects(make().uploadImage(blank));
      assert.equal(error.code, 'bad-response');
      assert.match(error.message, /\(answered without the image, and the tar names no image\)$/);
      assert.equal(sim().requests('listImages').length, 0);
    });

    it('an upload answered without the image takes the listed image of its name', async () => {
      make();
      await client!.uploadImage(buildImageTar({ name: 'other' }));
      await client!.uploadImage(buildImageTar({ name: 'wanted' }));
      sim().setFault('uploadImage', { status: 201, body: 'stored', headers: { 'Content-Type': 'text/plain' } });
      const image = await client!.uploadImage(buildImageTar({ name: 'wanted' }));
      assert.equal(image.name, 'wanted');
    });
  });

  describe('data store answers', () => {
    const inProgress = { action: 'backup', path: '/b', status: 'inProgress', percentage: 40 };
    /** Field runtimes offer no route to follow an operation: faults on it are never reached. */
    const contractOnly = (test: Mocha.Context) => simulatorProfile() === 'field' && test.skip();

    for (const status of [404, 405, 501]) {
      it(`an operation the runtime answers ${status} to follow is its own inProgress answer`, async function () {
        contractOnly(this);
        sim().setFault('dataStore', { status: 202, body: inProgress });
        sim().setFault('dataStoreStatus', { status, body: { message: 'no such route' } });
        const result = await make({ dataStorePollMs: 5 }).backupDataStore('api-db', '/b');
        assert.equal(result.status, 'inProgress');
        assert.equal(result.percentage, 40);
        assert.equal(sim().requests('dataStoreStatus').length, 1);
      });
    }

    it('an operation whose follow-up finds nothing mounted is its own inProgress answer', async function () {
      contractOnly(this);
      sim().setFault('dataStore', { status: 202, body: inProgress });
      sim().setFault('dataStoreStatus', { status: 503, body: '' });
      const result = await make({ dataStorePollMs: 5, retries: 0 }).backupDataStore('api-db', '/b');
      assert.equal(result.status, 'inProgress');
    });

    it('a follow-up that fails otherwise fails the call', async function () {
      contractOnly(this);
      sim().setFault('dataStore', { status: 202, body: inProgress });
      sim().setFault('dataStoreStatus', { status: 500, body: { message: 'broken' } });
      const error = await rejects(make({ dataStorePollMs: 5 }).backupDataStore('api-db', '/b'));
      assert.equal(error.statusCode, 500);
      assert.equal(error.operation, 'backupDataStore');
    });

    it('a follow-up that stops answering after the first poll fails the call', async function () {
      contractOnly(this);
      sim().setFault('dataStore', { status: 202, body: inProgress });
      sim().setFault('dataStoreStatus', { status: 200, body: inProgress, times: 1 });
      const polled = make({ dataStorePollMs: 5 }).restoreDataStore('api-db', '/b');
      const error = await rejects(polled);
      // The second poll met the runtime's own route for an unknown mim, or none at all.
      assert.equal(error.operation, 'restoreDataStore');
      assert.equal(sim().requests('dataStoreStatus').length, 2);
    });

    it('does not poll when one poll would outlast dataStoreMaxWaitMs', async () => {
      sim().setFault('dataStore', { status: 202, body: inProgress });
      const error = await rejects(make({ dataStorePollMs: 1000, dataStoreMaxWaitMs: 500 }).backupDataStore('api-db', '/b'));
      assert.equal(error.code, 'timeout');
      assert.match(error.message, /^backupDataStore failed: timed out \(still in progress at 40% after 500 ms\)$/);
      assert.equal(sim().requests('dataStoreStatus').length, 0);
    });

    it('a failure without a message names the action and the path', async () => {
      sim().setFault('dataStore', { status: 200, body: { action: 'restore', status: 'failed' } });
      const error = await rejects(make().restoreDataStore('api-db', '/backups/one'));
      assert.equal(error.code, 'operation-failed');
      assert.equal(error.message, 'restoreDataStore failed: restore of /backups/one failed');
      assert.equal((error.result as { status: string }).status, 'failed');
    });

    it('takes a status that is null or empty as no status', async () => {
      for (const status of [null, '']) {
        sim().setFault('dataStore', { status: 200, body: { action: 'backup', path: '/b', status }, times: 1 });
        const result = await make().backupDataStore('api-db', '/b');
        assert.notEqual(result.status, 'inProgress');
        client!.close();
      }
    });
  });

  describe('error answers', () => {
    it('trims the text of an error answered as plain text', async () => {
      sim().setFault('listImages', { status: 400, body: '  \n  the image store is locked \n ' });
      const error = await rejects(make({ retries: 0 }).listImages());
      assert.equal(error.serverMessage, 'the image store is locked');
      assert.equal(error.structured, false);
      assert.equal(error.contentType, 'text/plain');
    });

    it('says nothing answers at a path answered 503 with an empty body, and that the answer was not MCM’s', async () => {
      sim().setFault('listImages', { status: 503, body: '' });
      const error = await rejects(make({ retries: 0 }).listImages());
      assert.equal(error.code, 'no-api');
      assert.equal(error.structured, false);
      assert.equal(error.statusCode, 503);
      assert.match(error.message, new RegExp(`\\(GET ${sim().url}/mcm/v1/images: HTTP 503 with an empty body\\)`));
    });

    it('names the operation of a failed composition, backup and restore', async () => {
      make({ retries: 0 });
      sim().setFault('deployComposition', { status: 500 });
      sim().setFault('dataStore', { status: 500 });
      const failures = await Promise.all([
        rejects(client!.deployComposition([{ name: 'a', image: 'img' }])),
        rejects(client!.backupDataStore('api-db', '/b')),
        rejects(client!.restoreDataStore('api-db', '/b')),
      ]);
      assert.deepEqual(
        failures.map((e) => e.message.split(' ')[0]),
        ['deployComposition', 'backupDataStore', 'restoreDataStore'],
      );
      assert.deepEqual(
        failures.map((e) => e.operation),
        ['deployComposition', 'backupDataStore', 'restoreDataStore'],
      );
    });
  });

  describe('the wire', () => {
    it('asks for JSON answers', async () => {
      await make().listMims();
      assert.equal(sim().requests('listMims')[0].headers.accept, 'application/json');
    });

    it('checks a connection: the URL and how many mims are listed', async () => {
      make();
      await deployed('one', 'two');
      assert.deepEqual(await client!.checkConnection(), { url: sim().url, mims: 2 });
    });

    it('sends no request when the token function throws, and says why', async () => {
      client = new McmClient({
        url: sim().url,
        token: () => {
          throw new Error('the key file is unreadable');
        },
      });
      const error = await rejects(client.listMims());
      assert.equal(error.code, 'invalid-input');
      assert.equal(error.message, 'listMims: no API key or token (the key file is unreadable)');
      assert.equal(sim().requests().length, 0);
    });
  });
});

describe('McmClient and its connections', function () {
  this.timeout(20_000);
  let server: http.Server;
  let url = '';
  let open = 0;

  before(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    });
    server.on('connection', (socket) => {
      open++;
      socket.on('close', () => open--);
    });
    url = await listenOnLoopback(server);
  });
  after(() => closeServer(server));

  it('close() closes the connections it kept alive', async () => {
    const client = new McmClient({ url, token: 'k', maxConcurrent: 2 });
    await Promise.all([client.listMims(), client.listImages()]);
    assert.ok(open >= 1, 'connections kept alive');
    client.close();
    await waitFor(() => open === 0, 'the kept-alive connections closed');
  });
});

describe('McmClient runtime URL', () => {
  it('refuses a blank URL, saying one is required', () => {
    for (const url of ['', '   ', undefined as unknown as string]) {
      assert.throws(
        () => new McmClient({ url, token: 't' }),
        /^TypeError: the runtime URL is required, e\.g\. http:\/\/127\.0\.0\.1:8083$/,
      );
    }
  });

  it('refuses a URL it cannot parse, naming it', () => {
    assert.throws(
      () => new McmClient({ url: 'http://127.0.0.1:99999', token: 't' }),
      /the runtime URL "http:\/\/127\.0\.0\.1:99999" is not a valid URL/,
    );
  });
});
