/**
 * The runtime's API key file, `<workDir>/mimoe-api-key.env` (default work dir ~/.mimoe), as the
 * client reads it; the file's format is src/wire/key-file.ts. The runtime writes the file and may
 * regenerate it.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KEY_FILE_VARIABLE, parseEnvFile } from '../wire/key-file';

export const DEFAULT_KEY_FILE = join(homedir(), '.mimoe', 'mimoe-api-key.env');

/** Reads MCM_API_KEY; throws an Error naming the file when it is missing or holds no key. */
export function readApiKey(path: string = DEFAULT_KEY_FILE): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the key file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  const key = parseEnvFile(text)[KEY_FILE_VARIABLE];
  if (!key) throw new Error(`the key file ${path} holds no ${KEY_FILE_VARIABLE}`);
  return key;
}
