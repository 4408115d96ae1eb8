/**
 * Bad input across all nodes: each case reaches a Catch node with a message that says what is
 * wrong, and no request leaves for input that is invalid before it leaves. Ids that are merely
 * odd are sent, URL-encoded, to their own route and nowhere else.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { helper, loadActionFlow, run } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';

const dir = mkdtempSync(join(tmpdir(), 'mimoe-bad-'));
const emptyFile = join(dir, 'empty.tar');
writeFileSync(emptyFile, '');

interface Case {
  label: string;
  node: Record<string, unknown>;
  msg: () => Record<string, unknown>;
  error: RegExp;
}

const deploy = { type: 'mimoe-deploy' };
const hugeEnv = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`KEY_${i}`, 'x'.repeat(40)]));
const cases: Case[] = [
  {
    label: 'deploy: no payload',
    node: deploy,
    msg: () => ({}),
    error: /^deployMim: msg.payload must be an object \{name, image, env\} when the node leaves those fields blank \(got nothing\)$/,
  },
  {
    label: 'deploy: payload is a string',
    node: deploy,
    msg: () => ({ payload: 'hello' }),
    error: /^deployMim: msg.payload must be an object \{name, image, env\} .*\(got a string\)$/,
  },
  { label: 'deploy: payload is an inject timestamp', node: deploy, msg: () => ({ payload: Date.now() }), error: /\(got a number\)$/ },
  {
    label: 'deploy: name in the node, payload an array',
    node: { ...deploy, mimName: 'a', mimNameType: 'str' },
    msg: () => ({ payload: ['i'] }),
    error: /msg.payload must be an object \{name, image, env\} .*\(got an array\)$/,
  },
  { label: 'deploy: payload without a name', node: deploy, msg: () => ({ payload: { image: 'i' } }), error: /a mim name is required/ },
  { label: 'deploy: blank name', node: deploy, msg: () => ({ payload: { name: '  ', image: 'i' } }), error: /a mim name is required/ },
  { label: 'deploy: name is a number', node: deploy, msg: () => ({ payload: { name: 42, image: 'i' } }), error: /a mim name is required/ },
  {
    label: 'deploy: name with a space',
    node: deploy,
    msg: () => ({ payload: { name: 'my mim', image: 'i' } }),
    error: /"my mim" must not contain whitespace/,
  },
  {
    label: 'deploy: name with a tab',
    node: deploy,
    msg: () => ({ payload: { name: 'a\tb', image: 'i' } }),
    error: /must not contain whitespace/,
  },
  {
    label: 'deploy: name with a newline',
    node: deploy,
    msg: () => ({ payload: { name: 'a\nb', image: 'i' } }),
    error: /must not contain whitespace/,
  },
  { label: 'deploy: missing image', node: deploy, msg: () => ({ payload: { name: 'a' } }), error: /an image name is required/ },
  {
    label: 'deploy: image is an object',
    node: deploy,
    msg: () => ({ payload: { name: 'a', image: {} } }),
    error: /an image name is required/,
  },
  {
    label: 'deploy: env is a string',
    node: deploy,
    msg: () => ({ payload: { name: 'a', image: 'i', env: 'A=1' } }),
    error: /env must be an object of string values/,
  },
  {
    label: 'deploy: env is an array',
    node: deploy,
    msg: () => ({ payload: { name: 'a', image: 'i', env: ['A'] } }),
    error: /env must be an object/,
  },
  {
    label: 'deploy: env value is an object',
    node: deploy,
    msg: () => ({ payload: { name: 'a', image: 'i', env: { A: { b: 1 } } } }),
    error: /env value "A" must be a string \(got object\)/,
  },
  {
    label: 'deploy: env value is null',
    node: deploy,
    msg: () => ({ payload: { name: 'a', image: 'i', env: { A: null } } }),
    error: /env value "A" must be a string \(got null\)/,
  },
  {
    label: 'deploy: env value is an array',
    node: deploy,
    msg: () => ({ payload: { name: 'a', image: 'i', env: { A: [1] } } }),
    error: /got array/,
  },
  {
    label: 'deploy: env value is NaN',
    node: deploy,
    msg: () => ({ payload: { name: 'a', image: 'i', env: { A: NaN } } }),
    error: /env value "A" must be a string/,
  },
  { label: 'deploy: huge env', node: deploy, msg: () => ({ payload: { name: 'a', image: 'i', env: hugeEnv } }), error: /env is too large/ },
  {
    label: 'deploy: node name with whitespace',
    node: { ...deploy, mimName: 'a b', mimNameType: 'str', image: 'i' },
    msg: () => ({}),
    error: /must not contain whitespace/,
  },
  { label: 'remove: no payload', node: { type: 'mimoe-remove' }, msg: () => ({}), error: /removeMim: an id is required/ },
  { label: 'remove: blank string', node: { type: 'mimoe-remove' }, msg: () => ({ payload: '   ' }), error: /an id is required/ },
  {
    label: 'remove: object without id',
    node: { type: 'mimoe-remove' },
    msg: () => ({ payload: { name: 'x' } }),
    error: /an id is required/,
  },
  {
    label: 'remove: id is an object',
    node: { type: 'mimoe-remove' },
    msg: () => ({ payload: { id: { x: 1 } } }),
    error: /an id is required/,
  },
  { label: 'remove: id ".."', node: { type: 'mimoe-remove' }, msg: () => ({ payload: '..' }), error: /the id "\.\." is not a valid id/ },
  { label: 'remove: id with a newline', node: { type: 'mimoe-remove' }, msg: () => ({ payload: 'api-a\nb' }), error: /is not a valid id/ },
  {
    label: 'remove image: no id',
    node: { type: 'mimoe-remove', resource: 'image' },
    msg: () => ({ payload: null }),
    error: /deleteImage: an id is required/,
  },
  { label: 'upload: nothing', node: { type: 'mimoe-upload' }, msg: () => ({}), error: /uploadImage: an image tar is required/ },
  {
    label: 'upload: payload is a string',
    node: { type: 'mimoe-upload' },
    msg: () => ({ payload: 'not a path' }),
    error: /msg.payload is a string: put a file path in msg.filename/,
  },
  { label: 'upload: payload is an object', node: { type: 'mimoe-upload' }, msg: () => ({ payload: { a: 1 } }), error: /got object/ },
  {
    label: 'upload: missing file',
    node: { type: 'mimoe-upload' },
    msg: () => ({ filename: join(dir, 'missing.tar') }),
    error: /cannot read the image file ".*missing\.tar" \(ENOENT\)/,
  },
  { label: 'upload: directory', node: { type: 'mimoe-upload' }, msg: () => ({ filename: dir }), error: /is a directory, not a tar file/ },
  {
    label: 'upload: node path is a directory',
    node: { type: 'mimoe-upload', filename: dir, filenameType: 'str' },
    msg: () => ({}),
    error: /is a directory/,
  },
  {
    label: 'upload: empty file',
    node: { type: 'mimoe-upload' },
    msg: () => ({ filename: emptyFile }),
    error: /the image is empty \(0 bytes\)/,
  },
  { label: 'upload: empty Buffer', node: { type: 'mimoe-upload' }, msg: () => ({ payload: Buffer.alloc(0) }), error: /the image is empty/ },
  {
    label: 'upload: empty stream',
    node: { type: 'mimoe-upload' },
    msg: () => ({ payload: Readable.from([]) }),
    error: /the image is empty/,
  },
  {
    label: 'upload: a stream of objects',
    node: { type: 'mimoe-upload' },
    msg: () => ({ payload: Readable.from([{ not: 'bytes' }]) }),
    error: /must be a Buffer, a byte stream or a file path \(got stream of objects\)/,
  },
  {
    label: 'upload: stream that fails',
    node: { type: 'mimoe-upload' },
    msg: () => {
      const stream = new PassThrough();
      setTimeout(() => stream.destroy(new Error('disk unplugged')), 10);
      return { payload: stream };
    },
    error: /reading the image stream failed \(disk unplugged\)/,
  },
  {
    label: 'composition: no payload',
    node: { type: 'mimoe-composition' },
    msg: () => ({}),
    error: /^deployComposition: a composition must be an array of mim specs \{name, image, env\} \(got nothing\)$/,
  },
  {
    label: 'composition: object payload',
    node: { type: 'mimoe-composition' },
    msg: () => ({ payload: { name: 'a', image: 'i' } }),
    error: /must be an array of mim specs \{name, image, env\} \(got an object\)$/,
  },
  {
    label: 'composition: empty array',
    node: { type: 'mimoe-composition' },
    msg: () => ({ payload: [] }),
    error: /needs at least one mim spec/,
  },
  {
    label: 'composition: a string spec',
    node: { type: 'mimoe-composition' },
    msg: () => ({ payload: ['a'] }),
    error: /mim spec 0 must be an object/,
  },
  {
    label: 'composition: a spec without image',
    node: { type: 'mimoe-composition' },
    msg: () => ({ payload: [{ name: 'a', image: 'i' }, { name: 'b' }] }),
    error: /an image name is required/,
  },
  {
    label: 'composition: whitespace name',
    node: { type: 'mimoe-composition' },
    msg: () => ({ payload: [{ name: 'a b', image: 'i' }] }),
    error: /must not contain whitespace/,
  },
  {
    label: 'composition: bad env',
    node: { type: 'mimoe-composition' },
    msg: () => ({ payload: [{ name: 'a', image: 'i', env: { X: {} } }] }),
    error: /env value "X"/,
  },
  {
    label: 'composition: duplicate names',
    node: { type: 'mimoe-composition' },
    msg: () => ({
      payload: [
        { name: 'a', image: 'i' },
        { name: 'a', image: 'j' },
      ],
    }),
    error: /appears twice/,
  },
  {
    label: 'backup: no payload',
    node: { type: 'mimoe-backup' },
    msg: () => ({}),
    error: /^backupDataStore: msg.payload must be an object \{mimId, path\} .*\(got nothing\)$/,
  },
  {
    label: 'restore: payload is the id as a string',
    node: { type: 'mimoe-restore' },
    msg: () => ({ payload: 'api-a' }),
    error: /^restoreDataStore: msg.payload must be an object \{mimId, path\} .*\(got a string\)$/,
  },
  {
    label: 'backup: payload without mimId',
    node: { type: 'mimoe-backup' },
    msg: () => ({ payload: { path: '/p' } }),
    error: /an id is required/,
  },
  {
    label: 'backup: no path',
    node: { type: 'mimoe-backup' },
    msg: () => ({ payload: { mimId: 'api-a' } }),
    error: /a data store path on the mimOE host is required/,
  },
  {
    label: 'backup: path is a number',
    node: { type: 'mimoe-backup' },
    msg: () => ({ payload: { mimId: 'api-a', path: 7 } }),
    error: /path on the mimOE host is required/,
  },
  {
    label: 'restore: no mimId',
    node: { type: 'mimoe-restore' },
    msg: () => ({ payload: { path: '/p' } }),
    error: /restoreDataStore: an id is required/,
  },
  {
    label: 'restore: blank path',
    node: { type: 'mimoe-restore' },
    msg: () => ({ payload: { mimId: 'api-a', path: ' ' } }),
    error: /path on the mimOE host is required/,
  },
  {
    label: 'restore: node path set but mimId missing',
    node: { type: 'mimoe-restore', path: '/p', pathType: 'str' },
    msg: () => ({ payload: {} }),
    error: /an id is required/,
  },
];

describe('bad input', function () {
  const sim = useSimulator();
  afterEach(async () => {
    await helper.unload();
  });

  it(`has at least 40 cases (${cases.length})`, () => {
    assert.ok(cases.length >= 40);
  });

  for (const c of cases) {
    it(`${c.label}: Catch with a clear message, no request`, async () => {
      await loadActionFlow(sim(), c.node);
      const { kind, msg } = await run(c.msg());
      assert.equal(kind, 'caught');
      assert.match(msg.error.message, c.error);
      assert.equal(msg.statusCode, undefined);
      assert.equal(
        sim().log.length,
        0,
        `requests sent: ${sim()
          .log.map((e) => e.url)
          .join(', ')}`,
      );
    });
  }

  for (const [type, resource, id, route] of [
    ['mimoe-remove', 'mim', '../images/x', 'removeMim'],
    ['mimoe-remove', 'image', '../mims/api-a', 'deleteImage'],
    ['mimoe-remove', 'mim', 'a/b?c=d#e', 'removeMim'],
    ['mimoe-backup', 'mim', '../../images', 'dataStore'],
  ] as const) {
    it(`${type} ${resource} with the id "${id}" reaches only its own route`, async () => {
      await loadActionFlow(sim(), { type, resource });
      const payload = type === 'mimoe-remove' ? id : { mimId: id, path: '/p' };
      const { kind, msg } = await run({ payload });
      assert.equal(kind, 'caught');
      assert.equal(msg.statusCode, 404);
      assert.deepEqual(
        sim().log.map((e) => e.route),
        [route],
      );
      assert.ok(sim().log[0].url.includes(encodeURIComponent(id)), sim().log[0].url);
    });
  }
});
