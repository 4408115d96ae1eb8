/**
 * The fleet's pure parts, without a runtime: name filters and their globs, per-member keys, health
 * paths, FleetError, and the members and options a FleetClient refuses before any request.
 */
import assert from 'node:assert/strict';
import { FleetClient, FleetError, healthPath, nameFilter, parseMemberKeys } from '../../src/mcm/fleet';

/** The FleetError a call throws (it must throw one). */
function fleetErrorOf(make: () => unknown): FleetError {
  try {
    make();
  } catch (err) {
    assert.ok(err instanceof FleetError, `a FleetError, not ${String(err)}`);
    return err;
  }
  assert.fail('no error was thrown');
}

describe('fleet name filters', () => {
  it('match every name when blank or only spaces', () => {
    for (const blank of [undefined, '', '   ']) assert.equal(nameFilter(blank)('any-name'), true, JSON.stringify(blank));
  });

  it('take the characters of a regular expression literally', () => {
    const cases: Array<[string, string, boolean]> = [
      ['cam.1', 'cam.1', true],
      ['cam.1', 'camx1', false],
      ['a+b', 'a+b', true],
      ['a+b', 'aab', false],
      ['(gw)', '(gw)', true],
      ['x|y', 'x|y', true],
      ['x|y', 'x', false],
      ['$up^', '$up^', true],
      ['a/b', 'a/b', true],
      ['back\\slash', 'back\\slash', true],
    ];
    for (const [filter, name, expected] of cases) assert.equal(nameFilter(filter)(name), expected, `${filter} on ${name}`);
  });

  it('ignore spaces around each glob, and a ? stands for exactly one character', () => {
    const match = nameFilter(' gw-? ,  cam-* ');
    assert.deepEqual(['gw-1', 'gw-12', 'gw-', 'cam-', 'cam-9'].filter(match), ['gw-1', 'cam-', 'cam-9']);
  });

  it('refuse a bad filter with the filter and the reason in words', () => {
    const err = fleetErrorOf(() => nameFilter('a,,b'));
    assert.equal(err.code, 'filter-invalid');
    assert.equal(err.name, 'FleetError');
    assert.deepEqual(err.params, { filter: 'a,,b', reason: 'an empty entry between commas' });
    assert.equal(err.message, 'the name filter "a,,b" is not valid: an empty entry between commas');
  });
});

describe('per-member keys', () => {
  it('read nothing from nothing', () => {
    assert.deepEqual(parseMemberKeys(undefined), {});
    assert.deepEqual(parseMemberKeys('  \n '), {});
  });

  it('read a JSON object, names trimmed; padded JSON too', () => {
    assert.deepEqual(parseMemberKeys('  {" cam-1 ": "k1", "gw": "k 2"}  '), { 'cam-1': 'k1', gw: 'k 2' });
  });

  it('refuse JSON entries without a key or a name, by their position', () => {
    const cases: Array<[string, number]> = [
      ['{not json', 1],
      ['{"a": "k", "b": ""}', 2],
      ['{"a": "k", "b": "k", "c": null}', 3],
      ['{"a": "k", "  ": "k"}', 2],
    ];
    for (const [text, index] of cases) {
      const err = fleetErrorOf(() => parseMemberKeys(text));
      assert.equal(err.code, 'keys-invalid', text);
      assert.deepEqual(err.params, { index }, text);
      assert.equal(
        err.message,
        `the per-member keys cannot be read: entry ${index} is not name=key (write name=key entries, or a JSON object)`,
      );
    }
  });

  it('read name=key entries between any run of separators, leading ones too', () => {
    assert.deepEqual(parseMemberKeys(',;a=1,, ;b=2;\n\nc=x=y'), { a: '1', b: '2', c: 'x=y' });
  });

  it('refuse an entry with nothing before or after its =', () => {
    assert.deepEqual(fleetErrorOf(() => parseMemberKeys('a=1 =secret')).params, { index: 2 });
    assert.deepEqual(fleetErrorOf(() => parseMemberKeys('a=1 b= c=3')).params, { index: 2 });
    assert.deepEqual(fleetErrorOf(() => parseMemberKeys('a=')).params, { index: 1 });
  });
});

describe('health paths', () => {
  it('trim their parts and put one slash between them', () => {
    assert.equal(healthPath('api', ' /hello/v1 ', ' healthcheck '), '/api/hello/v1/healthcheck');
    assert.equal(healthPath('api', '//hello/v1//', '//healthcheck'), '/api/hello/v1/healthcheck');
    assert.equal(healthPath('api', '  ', '  '), '/api');
  });

  it('encode the client id', () => {
    assert.equal(healthPath('my client/1', '/v1'), '/my%20client%2F1/v1');
  });
});

describe('FleetClient settings refused before any request', () => {
  it('a member without a usable name or URL, named by position with what it had', () => {
    const err = fleetErrorOf(
      () =>
        new FleetClient({
          members: [
            { name: 'ok', url: 'http://127.0.0.1:1' },
            { name: ' cam ', url: ' see http://127.0.0.1:2 ' },
          ],
        }),
    );
    assert.equal(err.code, 'member-invalid');
    assert.equal(err.message, 'member 2 needs a name and a URL starting with http:// or https:// (got "cam", "see http://127.0.0.1:2")');
  });

  it('members that are not objects, or whose fields are not text, are refused the same way', () => {
    const odd: Array<[unknown, string, string]> = [
      [null, '', ''],
      ['cam-1', '', ''],
      [{ name: 7, url: 'http://127.0.0.1:1' }, '', 'http://127.0.0.1:1'],
      [{ name: 'cam-1', url: 8083 }, 'cam-1', ''],
    ];
    for (const [member, name, url] of odd) {
      const err = fleetErrorOf(() => new FleetClient({ members: [member as never] }));
      assert.equal(err.code, 'member-invalid', JSON.stringify(member));
      assert.deepEqual(err.params, { index: 1, name, url }, JSON.stringify(member));
    }
  });

  it('a name listed twice, after trimming', () => {
    const err = fleetErrorOf(
      () =>
        new FleetClient({
          members: [
            { name: 'gw', url: 'http://127.0.0.1:1' },
            { name: ' gw ', url: 'http://127.0.0.1:2' },
          ],
        }),
    );
    assert.equal(err.code, 'member-duplicate');
    assert.equal(err.message, 'the member name "gw" is listed twice');
  });

  it('a seed that is missing or not an http(s) URL', () => {
    const missing = fleetErrorOf(() => new FleetClient({ discovery: {} as never }));
    assert.equal(missing.code, 'seed-invalid');
    assert.equal(missing.message, 'the seed URL must start with http:// or https:// (got "")');
    const wrong = fleetErrorOf(() => new FleetClient({ discovery: { seedUrl: 'ws://127.0.0.1:1' } }));
    assert.equal(wrong.message, 'the seed URL must start with http:// or https:// (got "ws://127.0.0.1:1")');
  });

  it('listed members keep their trimmed name and URL, and say they were listed', async () => {
    const fleet = new FleetClient({ members: [{ name: ' cam-1 ', url: ' http://127.0.0.1:1 ' }] });
    try {
      assert.deepEqual(fleet.known, [{ name: 'cam-1', url: 'http://127.0.0.1:1', source: 'listed' }]);
      await fleet.refresh();
      assert.deepEqual(await fleet.members({ refresh: true }), fleet.known, 'without discovery, refreshing changes nothing');
    } finally {
      fleet.close();
    }
  });
});

describe('FleetClient target devices, chosen before any request', () => {
  /** Members on closed loopback ports: the choice fails before any of them is asked. */
  const fleetOf = (size: number): FleetClient =>
    new FleetClient({
      members: Array.from({ length: size }, (_, i) => ({ name: `m${i + 1}`, url: `http://127.0.0.1:${i + 1}` })),
      token: 'unused',
    });
  const plan = { operation: 'remove', id: 'api-hello' } as const;

  async function refusal(fleet: FleetClient, devices: string[] | undefined): Promise<FleetError> {
    try {
      const err = await fleet.rollout(plan, { devices }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof FleetError, `a FleetError, not ${String(err)}`);
      return err;
    } finally {
      fleet.close();
    }
  }

  it('no members at all', async () => {
    const err = await refusal(new FleetClient({ members: [] }), undefined);
    assert.equal(err.code, 'no-members');
    assert.equal(err.message, 'the fleet has no members: list some, or check the seed and the name filter');
  });

  it('a list of blank names', async () => {
    const err = await refusal(fleetOf(2), [' ', '']);
    assert.equal(err.code, 'devices-invalid');
    assert.match(err.message, /\(got an empty list\)$/);
  });

  it('an entry that is no name or glob, with the reason', async () => {
    const err = await refusal(fleetOf(2), ['m1', 'm[2]']);
    assert.equal(err.code, 'device-pattern-invalid');
    assert.equal(err.message, 'the target device "m[2]" is not a member name or glob: only * and ? are wildcards ("m[2]")');
  });

  it('names nothing matches, with the members (the first ten of a longer list)', async () => {
    const ten = await refusal(fleetOf(10), ['m1', 'x', 'y*']);
    assert.equal(ten.code, 'devices-unknown');
    assert.equal(ten.message, 'no fleet member matches "x", "y*" (members: m1, m2, m3, m4, m5, m6, m7, m8, m9, m10)');
    const eleven = await refusal(fleetOf(11), ['x']);
    assert.equal(eleven.message, 'no fleet member matches "x" (members: m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, …)');
  });
});
