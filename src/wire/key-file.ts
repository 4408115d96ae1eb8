/**
 * The format of mimOE's API key file, `mimoe-api-key.env`: `KEY=value` lines (an optional
 * `export `, optional quotes around the value) and `#` comments. The runtime writes it; the
 * client and the probe read the key from it, and the simulator keeps its own key in one.
 *
 * Shared by the client and the simulator because it is a file format, not a rule of the API: a
 * second parser could only drift from this one, and both sides must read the files of the other.
 */

/** The line of the file that holds the MCM API key. */
export const KEY_FILE_VARIABLE = 'MCM_API_KEY';

/** An assignment line: its name and its raw value (comments never match: a name starts with a letter). */
const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][\w.]*)\s*=\s*(.*?)\s*$/;

/** Every assignment of the file; a name given twice takes its last value, as a shell would. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = ASSIGNMENT.exec(line);
    if (match) values[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

/**
 * The file's text with `name` set to `value`: every assignment of the name rewritten, or one
 * line added at the end; every other line (comments, other keys) kept as it was.
 */
export function setEnvFileValue(text: string, name: string, value: string): string {
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  let found = false;
  const updated = lines.map((line) => {
    if (ASSIGNMENT.exec(line)?.[1] !== name) return line;
    found = true;
    return `${name}=${value}`;
  });
  if (!found) updated.push(`${name}=${value}`);
  return updated.join('\n') + '\n';
}
