/**
 * The key file format (src/wire/key-file.ts), the one parser and writer that the client, the
 * probe and the simulator share: what one side writes, the other reads.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readApiKey } from '../../src/mcm/key-file';
import { readKeyFile, writeKeyFile } from '../../src/simulator';
import { parseEnvFile, setEnvFileValue } from '../../src/wire/key-file';
import { tempDir } from '../support/simulator-helpers';

describe('the key file format', () => {
  it('reads assignments: comments skipped, `export` and quotes dropped, CRLF lines, the last of a name', () => {
    const text = [
      '# MCM_API_KEY=commented-out',
      '  # ACCOUNT_API_KEY=also-a-comment',
      'export ACCOUNT_API_KEY="acct key"',
      "MCM.FLAG='on'",
      'MCM_API_KEY=first',
      '  MCM_API_KEY = second  ',
      'not an assignment',
    ].join('\r\n');
    assert.deepEqual(parseEnvFile(text), { ACCOUNT_API_KEY: 'acct key', 'MCM.FLAG': 'on', MCM_API_KEY: 'second' });
  });

  it('sets a value: every assignment of the name rewritten, comments and other keys kept, else one line added', () => {
    const text = '# MCM_API_KEY=old\nexport MCM_API_KEY=a\nACCOUNT_API_KEY=acct\nMCM_API_KEY=b\n';
    assert.equal(
      setEnvFileValue(text, 'MCM_API_KEY', 'new'),
      '# MCM_API_KEY=old\nMCM_API_KEY=new\nACCOUNT_API_KEY=acct\nMCM_API_KEY=new\n',
    );
    assert.equal(setEnvFileValue('ACCOUNT_API_KEY=acct', 'MCM_API_KEY', 'k'), 'ACCOUNT_API_KEY=acct\nMCM_API_KEY=k\n');
    assert.equal(setEnvFileValue('', 'MCM_API_KEY', 'k'), 'MCM_API_KEY=k\n');
    assert.equal(parseEnvFile(setEnvFileValue(text, 'MCM_API_KEY', 'new')).MCM_API_KEY, 'new');
  });

  it('a key the simulator writes into a runtime-style file is the key the client reads', () => {
    const file = join(tempDir(), 'mimoe-api-key.env');
    writeFileSync(file, '# written by mimOE\nexport MCM_API_KEY="quoted-old"\nACCOUNT_API_KEY=acct\n');
    assert.equal(readApiKey(file), 'quoted-old');
    assert.equal(readKeyFile(file), 'quoted-old');
    writeKeyFile(file, 'rotated-key');
    assert.equal(readApiKey(file), 'rotated-key');
    assert.equal(readFileSync(file, 'utf8'), '# written by mimOE\nMCM_API_KEY=rotated-key\nACCOUNT_API_KEY=acct\n');
  });
});
