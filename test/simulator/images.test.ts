import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { connect } from 'node:net';
import { buildImageTar, imageTarStream } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { api, multipartBody, rawRequest, sha256, startTestSimulator, uploadTar, waitFor } from '../support/simulator-helpers';

/** A hand-made tar of the given entries (ustar headers), for tars the builder cannot make. */
function tarOf(entries: Array<{ name: string; data: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const { name, data } of entries) {
    const body = Buffer.from(data);
    const h = Buffer.alloc(512);
    h.write(name, 0);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\x0000', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

describe('simulator images', () => {
  let sim: McmSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());

  it('uploads an image: 201, name from the tar, digest and size of the tar', async () => {
    const tar = buildImageTar({ name: 'hello-v1', tag: '2.0.0' });
    const res = await uploadTar(sim, tar, { filename: 'some-other-name.tar' });
    assert.equal(res.status, 201);
    assert.equal(res.json.id, 'api-hello-v1');
    assert.equal(res.json.name, 'hello-v1');
    assert.equal(res.json.digest, `sha256:${sha256(tar)}`);
    assert.equal(res.json.size, tar.length);
    assert.deepEqual(res.json.repoTags, ['hello-v1:2.0.0']);
    assert.ok(!Number.isNaN(Date.parse(res.json.created)), 'created is an ISO date');
    const list = await api(sim, '/mcm/v1/images');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json, { data: [res.json] });
    assert.deepEqual(sim.images(), [res.json]);
  });

  it('logs the upload parts', async () => {
    const tar = buildImageTar({ name: 'hello-v1' });
    const form = multipartBody([
      { name: 'note', data: 'ignored' },
      { name: 'image', data: tar, contentType: 'application/octet-stream' }, // no filename
    ]);
    const res = await api(sim, '/mcm/v1/images', { method: 'POST', body: form.body, headers: { 'content-type': form.contentType } });
    assert.equal(res.status, 201);
    const [entry] = sim.requests('uploadImage');
    assert.deepEqual(entry.parts, [
      { name: 'note', filename: undefined, contentType: undefined, bytes: 7 },
      { name: 'image', filename: undefined, contentType: 'application/octet-stream', bytes: tar.length },
    ]);
  });

  it('takes the name from repositories before RepoTags', async () => {
    const tar = tarOf([
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['from-tags:1.0'], Layers: [] }]) },
      { name: 'repositories', data: JSON.stringify({ 'from-repos': { '1.0': 'abc' } }) },
    ]);
    const res = await uploadTar(sim, tar);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.name, 'from-repos');
    assert.equal(res.json.id, 'api-from-repos');
    assert.deepEqual(res.json.repoTags, ['from-tags:1.0']);
  });

  it('takes the name from RepoTags when the tar has no repositories file', async () => {
    const tar = tarOf([{ name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['tagged-v2:3.1'], Layers: [] }]) }]);
    const res = await uploadTar(sim, tar);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.name, 'tagged-v2');
    assert.deepEqual(res.json.repoTags, ['tagged-v2:3.1']);
  });

  const badTars: Array<[string, Buffer, RegExp]> = [
    ['random bytes', Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 256)), /not a tar archive/],
    ['a truncated tar', buildImageTar({ name: 'cut' }).subarray(0, 1800), /truncated/],
    ['a tar cut between entries', buildImageTar({ name: 'cut' }).subarray(0, 2048), /truncated/],
    ['a tar without manifest.json', tarOf([{ name: 'index.js', data: 'x' }]), /manifest\.json is missing/],
    ['a tar with an unreadable manifest', tarOf([{ name: 'manifest.json', data: '{nope' }]), /not valid JSON/],
  ];
  for (const [what, tar, message] of badTars) {
    it(`refuses ${what} with 400 and a reason`, async () => {
      const res = await uploadTar(sim, tar);
      assert.equal(res.status, 400);
      assert.equal(res.json.error.code, 400);
      assert.match(res.json.error.message, message);
      assert.deepEqual(sim.images(), []);
    });
  }

  it('refuses an empty image part and a missing one: 400 "no image received"', async () => {
    for (const parts of [[{ name: 'image', data: '' }], [{ name: 'file', data: buildImageTar({ name: 'x' }) }]]) {
      const form = multipartBody(parts);
      const res = await api(sim, '/mcm/v1/images', { method: 'POST', body: form.body, headers: { 'content-type': form.contentType } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.json, { error: { code: 400, message: 'no image received' } });
    }
  });

  it('refuses a body that is not multipart, and a multipart body cut short', async () => {
    const tar = buildImageTar({ name: 'x' });
    const raw = await api(sim, '/mcm/v1/images', { method: 'POST', body: tar, headers: { 'content-type': 'application/x-tar' } });
    assert.equal(raw.status, 400);
    assert.match(raw.json.error.message, /multipart\/form-data/);
    const form = multipartBody([{ name: 'image', data: tar }]);
    const cut = await api(sim, '/mcm/v1/images', {
      method: 'POST',
      body: form.body.subarray(0, form.body.length - 20),
      headers: { 'content-type': form.contentType },
    });
    assert.equal(cut.status, 400);
    assert.match(cut.json.error.message, /closing boundary/);
    assert.deepEqual(sim.images(), []);
  });

  it('accepts a chunked upload split at awkward places', async () => {
    const tar = buildImageTar({ name: 'chunky', paddingBytes: 300_000 });
    const form = multipartBody([{ name: 'image', data: tar, filename: 'c.tar' }]);
    const chunks: Buffer[] = [];
    for (let at = 0, size = 1; at < form.body.length; at += size, size = (size * 3 + 1) % 65_536 || 1) {
      chunks.push(form.body.subarray(at, at + size));
    }
    const res = await rawRequest(sim, '/mcm/v1/images', { method: 'POST', headers: { 'content-type': form.contentType }, body: chunks });
    assert.equal(res.status, 201, res.text);
    const image = JSON.parse(res.text);
    assert.equal(image.size, tar.length);
    assert.equal(image.digest, `sha256:${sha256(tar)}`);
    const [entry] = sim.requests('uploadImage');
    assert.equal(entry.headers['transfer-encoding'], 'chunked');
    assert.equal(entry.headers['content-length'], undefined);
  });

  it('streams a large upload through without holding it (32 MiB, chunked)', async () => {
    const options = { name: 'large-v1', paddingBytes: 32 * 1024 * 1024 };
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of imageTarStream(options)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const boundary = 'large-upload-boundary';
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${sim.url}/mcm/v1/images`, {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${sim.key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      req.on('response', (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="large.tar"\r\n\r\n`);
      const tar = imageTarStream(options);
      tar.pipe(req, { end: false });
      tar.on('end', () => req.end(`\r\n--${boundary}--\r\n`));
    });
    assert.equal(res.status, 201, res.text);
    const image = JSON.parse(res.text);
    assert.equal(image.size, size);
    assert.equal(image.digest, `sha256:${hash.digest('hex')}`);
  });

  it('survives a client that gives up mid-upload', async () => {
    const form = multipartBody([{ name: 'image', data: buildImageTar({ name: 'gone', paddingBytes: 100_000 }) }]);
    await new Promise<void>((resolve) => {
      const req = http.request(`${sim.url}/mcm/v1/images`, {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${sim.key}`, 'content-type': form.contentType, 'content-length': String(form.body.length) },
      });
      req.on('error', () => resolve());
      req.write(form.body.subarray(0, 50_000), () => setTimeout(() => req.destroy(), 20));
    });
    await waitFor(() => sim.inFlight === 0);
    assert.deepEqual(sim.images(), []);
    assert.equal(sim.requests('uploadImage')[0].status, 0);
    assert.equal((await uploadTar(sim, buildImageTar({ name: 'after' }))).status, 201);
  });

  it('replaces an image uploaded again under the same name', async () => {
    await uploadTar(sim, buildImageTar({ name: 'same', tag: '1.0.0' }));
    const second = buildImageTar({ name: 'same', tag: '1.1.0' });
    const res = await uploadTar(sim, second);
    assert.equal(res.status, 201);
    const images = sim.images();
    assert.equal(images.length, 1);
    assert.deepEqual(images[0].repoTags, ['same:1.1.0']);
    assert.equal(images[0].digest, `sha256:${sha256(second)}`);
  });

  it('deletes by id and by bare name, 200 with the deleted image', async () => {
    const a = (await uploadTar(sim, buildImageTar({ name: 'img-a' }))).json;
    await uploadTar(sim, buildImageTar({ name: 'img-b' }));
    const byId = await api(sim, '/mcm/v1/images/api-img-a', { method: 'DELETE' });
    assert.equal(byId.status, 200);
    assert.deepEqual(byId.json, a);
    const byName = await api(sim, '/mcm/v1/images/img-b', { method: 'DELETE' });
    assert.equal(byName.status, 200);
    assert.equal(byName.json.id, 'api-img-b');
    assert.deepEqual(sim.images(), []);
  });

  it('answers 404 for an unknown image and 409 for one a mim uses', async () => {
    const missing = await api(sim, '/mcm/v1/images/hello-v1', { method: 'DELETE' });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.message, 'image "hello-v1" not found');
    await uploadTar(sim, buildImageTar({ name: 'hello-v1' }));
    assert.equal((await api(sim, '/mcm/v1/mims', { method: 'POST', body: { name: 'hello', image: 'hello-v1' } })).status, 201);
    const used = await api(sim, '/mcm/v1/images/api-hello-v1', { method: 'DELETE' });
    assert.equal(used.status, 409);
    assert.match(used.json.error.message, /"hello-v1" is used by mim "api-hello"/);
    assert.equal(sim.images().length, 1);
  });

  it('answers 417 to Expect: 100-continue without sending 100 Continue, and logs it', async () => {
    // A raw socket shows every byte the server sends: no interim "100 Continue" may come first.
    const form = multipartBody([{ name: 'image', data: buildImageTar({ name: 'expect' }) }]);
    const head =
      `POST /mcm/v1/images HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${sim.key}\r\n` +
      `Content-Type: ${form.contentType}\r\nContent-Length: ${form.body.length}\r\nExpect: 100-continue\r\n\r\n`;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(sim.port, '127.0.0.1', () => socket.write(head));
      let text = '';
      socket.on('data', (c) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(2000, () => socket.destroy(new Error('no answer')));
    });
    assert.match(answer, /^HTTP\/1\.1 417 /);
    assert.doesNotMatch(answer, /100 Continue/i);
    assert.match(answer, /Expect: 100-continue is not supported/);
    const [entry] = sim.requests('uploadImage');
    assert.equal(entry.status, 417);
    assert.equal(entry.headers.expect, '100-continue');
    assert.deepEqual(sim.images(), []);
  });
});
