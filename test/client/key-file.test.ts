/**
 * Reading the runtime's key file, as a config node set to "key from the runtime's key file" does:
 * where it looks by default, and errors that name the file and what is wrong with it (they reach
 * the config node's status and the log, where a person fixes the path or the file).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KEY_FILE, readApiKey } from '../../src/mcm/key-file';
import { tempDir } from '../support/simulator-helpers';

describe('the key file', () => {
  it('is looked for where mimOE writes it by default', () => {
    assert.equal(DEFAULT_KEY_FILE, join(homedir(), '.mimoe', 'mimoe-api-key.env'));
  });

  it('gives the MCM_API_KEY of the file', () => {
    const file = join(tempDir(), 'mimoe-api-key.env');
    writeFileSync(file, '# written by mimOE\nACCOUNT_API_KEY=acct\nMCM_API_KEY=the-key\n');
    assert.equal(readApiKey(file), 'the-key');
  });

  it('names a file that cannot be read, with the system’s reason', () => {
    const missing = join(tempDir(), 'nowhere.env');
    assert.throws(
      () => readApiKey(missing),
      (err: Error) => {
        assert.equal(err.message, `cannot read the key file ${missing} (ENOENT)`);
        // The system's own error stays reachable for a program that wants more than the text.
        assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
        return true;
      },
    );
    const directory = join(tempDir(), 'a-directory');
    mkdirSync(directory);
    assert.throws(() => readApiKey(directory), { message: `cannot read the key file ${directory} (EISDIR)` });
  });

  it('names a file that holds no MCM_API_KEY, or a blank one', () => {
    for (const text of ['# nothing yet\nACCOUNT_API_KEY=acct\n', 'MCM_API_KEY=\n']) {
      const file = join(tempDir(), 'mimoe-api-key.env');
      writeFileSync(file, text);
      assert.throws(() => readApiKey(file), { message: `the key file ${file} holds no MCM_API_KEY` });
    }
  });
});
