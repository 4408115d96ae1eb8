import assert from 'node:assert/strict';
import { MultipartError, MultipartParser, PartInfo, boundaryOf } from '../../src/simulator/multipart';
import { multipartBody } from '../support/simulator-helpers';

interface Collected {
  info: PartInfo;
  data: Buffer;
  ended: boolean;
}

/** Feeds `body` in chunks of the given sizes (cycled) and collects the parts. */
function parse(boundary: string, body: Buffer, sizes: number[] = [body.length]): Collected[] {
  const parts: Collected[] = [];
  const chunks: Buffer[] = [];
  const parser = new MultipartParser(boundary, {
    partStart: (info) => {
      parts.push({ info, data: Buffer.alloc(0), ended: false });
      chunks.length = 0;
    },
    partData: (chunk) => chunks.push(Buffer.from(chunk)),
    partEnd: () => {
      const last = parts[parts.length - 1];
      last.data = Buffer.concat(chunks);
      last.ended = true;
    },
  });
  for (let at = 0, i = 0; at < body.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]);
    parser.write(body.subarray(at, at + size));
    at += size;
  }
  parser.end();
  return parts;
}

describe('simulator multipart parser', () => {
  const boundary = 'XyZ123';
  // Data that looks like the start of a boundary in many ways, but is not one.
  const tricky = Buffer.concat([
    Buffer.from('\r\n--XyZ12\r\n-\r\r\n--X\r\n--XyZ1'),
    Buffer.from([0, 13, 10, 45, 45, 13, 13, 10, 65]),
    Buffer.from('--XyZ123 not after CRLF\r'),
  ]);
  const form = multipartBody(
    [
      { name: 'note', data: 'hello' },
      { name: 'image', data: tricky, filename: 'a b.tar', contentType: 'application/x-tar' },
      { name: 'empty', data: '' },
    ],
    boundary,
  );

  it('reads every part whole, whatever the chunk sizes', () => {
    for (const sizes of [[form.body.length], [1], [2, 3], [7], [13, 1, 64], [4096]]) {
      const parts = parse(boundary, form.body, sizes);
      assert.equal(parts.length, 3, `chunk sizes ${sizes}`);
      assert.deepEqual(
        parts.map((p) => p.info.name),
        ['note', 'image', 'empty'],
      );
      assert.equal(parts[0].data.toString(), 'hello');
      assert.ok(parts[1].data.equals(tricky), `chunk sizes ${sizes}: image bytes differ`);
      assert.equal(parts[2].data.length, 0);
      assert.ok(parts.every((p) => p.ended));
    }
  });

  it('reads random splits of random binary data', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 30; round++) {
      // Random bytes drawn mostly from the boundary's own characters, to provoke near-matches.
      const alphabet = Buffer.from('\r\n-XyZ123a');
      const data = Buffer.from(Array.from({ length: 2000 }, () => alphabet[rand(alphabet.length)]));
      const body = multipartBody([{ name: 'image', data }], boundary).body;
      const sizes = Array.from({ length: 5 }, () => 1 + rand(300));
      const parts = parse(boundary, body, sizes);
      assert.equal(parts.length, 1);
      assert.ok(parts[0].data.equals(data), `round ${round}`);
    }
  });

  it('parses part headers: name, filename, content type', () => {
    const [, image] = parse(boundary, form.body);
    assert.equal(image.info.name, 'image');
    assert.equal(image.info.filename, 'a b.tar');
    assert.equal(image.info.contentType, 'application/x-tar');
    assert.equal(image.info.headers['content-disposition'], 'form-data; name="image"; filename="a b.tar"');
  });

  it('skips a preamble and an epilogue, and accepts a part without headers', () => {
    const body = Buffer.from(`preamble text\r\n--${boundary}\r\n\r\nraw\r\n--${boundary}--\r\nepilogue`);
    const parts = parse(boundary, body, [3]);
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0].info.headers, {});
    assert.equal(parts[0].data.toString(), 'raw');
  });

  it('throws when the closing boundary never comes', () => {
    const truncated = form.body.subarray(0, form.body.length - 10);
    assert.throws(() => parse(boundary, truncated), MultipartError);
    assert.throws(() => parse(boundary, Buffer.from('no multipart here at all')), /closing boundary/);
  });

  it('throws on garbage after a boundary and on a bad header line', () => {
    assert.throws(() => parse(boundary, Buffer.from(`--${boundary}garbage\r\n\r\nx\r\n--${boundary}--`)), /bad boundary line/);
    assert.throws(() => parse(boundary, Buffer.from(`--${boundary}\r\nno colon here\r\n\r\nx\r\n--${boundary}--`)), /bad part header/);
  });

  it('finds the boundary in a Content-Type', () => {
    assert.equal(boundaryOf('multipart/form-data; boundary=abc'), 'abc');
    assert.equal(boundaryOf('Multipart/Form-Data;boundary="a b;c"'), 'a b;c');
    assert.equal(boundaryOf('multipart/form-data; charset=utf-8; boundary=----x'), '----x');
    assert.equal(boundaryOf('multipart/form-data'), undefined);
    assert.equal(boundaryOf('application/json; boundary=abc'), undefined);
    assert.equal(boundaryOf(undefined), undefined);
  });
});
