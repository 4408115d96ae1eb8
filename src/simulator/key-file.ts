/**
 * The simulator's API key: kept in a mimoe-api-key.env file as the runtime keeps its own (read
 * from the file when it holds one, written to it otherwise); the file's format is src/wire/key-file.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KEY_FILE_VARIABLE, parseEnvFile, setEnvFileValue } from '../wire/key-file';

export function readKeyFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseEnvFile(text)[KEY_FILE_VARIABLE] || undefined;
}

/** Sets MCM_API_KEY in the file, keeping its other lines; atomic, so a reader never sees half a file. */
export function writeKeyFile(file: string, key: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '# MCM API key of the MCM simulator (a throwaway key for tests)\n';
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, setEnvFileValue(text, KEY_FILE_VARIABLE, key), { mode: 0o600 });
  renameSync(tmp, file);
}

export const randomKey = (): string => randomBytes(24).toString('base64url');

/** The key given, else the key file's, else a new one; a key file is left holding the key chosen. */
export function chooseKey(key: string | undefined, keyFile: string | undefined): string {
  const chosen = key ?? (keyFile ? readKeyFile(keyFile) : undefined) ?? randomKey();
  if (keyFile && readKeyFile(keyFile) !== chosen) writeKeyFile(keyFile, chosen);
  return chosen;
}
