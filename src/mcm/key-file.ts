/**
 * The runtime's API key file, `<workDir>/mimoe-api-key.env` (default work dir ~/.mimoe):
 * `KEY=value` lines with `#` comments. The runtime writes it and may regenerate it.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_KEY_FILE = join(homedir(), '.mimoe', 'mimoe-api-key.env');
export const KEY_FILE_VARIABLE = 'MCM_API_KEY';

export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][\w.]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trim().startsWith('#')) continue;
    values[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

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
