/**
 * Every form a secret can take in a text that a runtime, a proxy or a gateway echoes back, by
 * name: raw, JSON-escaped, URL-encoded (once or twice, or mixed with JSON escapes), hex, and
 * base64 wherever it sits inside a longer encoded blob. Bytes are those of UTF-8 and, for
 * characters of Latin-1, also Latin-1's (how an HTTP header carries them). Both redactors build on
 * this list: the client's (redact.ts, for error texts) and the probe's (its exchange log).
 */

/** One form of a secret: the name a person knows it by, and a regular-expression source for it. */
export interface SecretForm {
  encoding: string;
  pattern: string;
}

/** The longest a single character gets in these forms: URL-encoded twice, 4 UTF-8 bytes of `%25XX`. */
export const WIDEST_CHARACTER_FORM = 20;

/** A base64 run shorter than this is too common to stand for a secret. */
const MIN_BASE64_RUN = 4;

const JSON_SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A number in hex digits of either case, as a pattern: 0x2f -> `2[fF]`. */
function hexPattern(value: number, width: number): string {
  return value
    .toString(16)
    .padStart(width, '0')
    .replace(/[a-f]/g, (digit) => `[${digit}${digit.toUpperCase()}]`);
}

/** The bytes a text may have been sent as: UTF-8, and Latin-1 (how HTTP headers carry it). */
function byteForms(text: string): Buffer[] {
  const utf8 = Buffer.from(text, 'utf8');
  // eslint-disable-next-line no-control-regex -- the test is for characters beyond ASCII
  return /^[\u0000-\u007f]*$|[^\u0000-\u00ff]/.test(text) ? [utf8] : [utf8, Buffer.from(text, 'latin1')];
}

/** The escapes JSON may write a character as (a character beyond the BMP as two `\u`, a surrogate pair). */
function jsonEscapes(char: string): string[] {
  const units = Array.from({ length: char.length }, (_, i) => `\\\\u${hexPattern(char.charCodeAt(i), 4)}`).join('');
  return JSON_SHORT_ESCAPES[char] ? [escapeRegExp(JSON_SHORT_ESCAPES[char]), units] : [units];
}

/** The escapes URL encoding may write a character as: its bytes as `%XX`, a space as `+`. */
function urlEscapes(char: string): string[] {
  const escapes = byteForms(char).map((bytes) => [...bytes].map((byte) => `%${hexPattern(byte, 2)}`).join(''));
  return char === ' ' ? [...escapes, '\\+'] : escapes;
}

/** URL encoding applied twice: the `%` of each escape becomes `%25`. */
function urlTwiceEscapes(char: string): string[] {
  return byteForms(char).map((bytes) => [...bytes].map((byte) => `%25${hexPattern(byte, 2)}`).join(''));
}

/** The secret with each character written as itself or as one of its escapes, mixed freely. */
function escapedPattern(secret: string, ...escapeSets: Array<(char: string) => string[]>): string {
  return [...secret].map((char) => `(?:${[escapeRegExp(char), ...escapeSets.flatMap((escapes) => escapes(char))].join('|')})`).join('');
}

/**
 * The base64 characters that stand for `bytes` alone when `lead` other bytes precede them in a
 * 3-byte group: the characters that mix in bits of the neighbours are left out.
 */
function base64Run(bytes: Buffer, lead: number): string {
  const encoded = Buffer.concat([Buffer.alloc(lead), bytes]).toString('base64');
  return encoded.slice(Math.ceil((8 * lead) / 6), Math.floor((8 * (lead + bytes.length)) / 6));
}

/** Every form of the secret, simplest first (so an occurrence is named by its simplest form). */
export function secretForms(secret: string): SecretForm[] {
  const jsonEscaped = JSON.stringify(secret).slice(1, -1);
  const forms: SecretForm[] = [
    { encoding: 'raw', pattern: escapeRegExp(secret) },
    { encoding: 'JSON-escaped', pattern: escapedPattern(secret, jsonEscapes) },
    { encoding: 'URL-encoded', pattern: escapedPattern(secret, urlEscapes) },
    { encoding: 'URL-encoded twice', pattern: escapedPattern(secret, urlTwiceEscapes) },
    { encoding: 'JSON and URL escapes mixed', pattern: escapedPattern(secret, jsonEscapes, urlEscapes) },
    {
      encoding: 'hex',
      pattern: byteForms(secret)
        .map((bytes) => [...bytes].map((byte) => hexPattern(byte, 2)).join(''))
        .join('|'),
    },
    // Whole, so that an echoed Authorization header is replaced as one piece.
    { encoding: 'base64 of "Bearer <key>"', pattern: escapeRegExp(Buffer.from(`Bearer ${secret}`).toString('base64')) },
  ];
  // Inside a base64 blob ("Bearer <key>", "user:<key>", a JSON document) the secret starts at any
  // of the three byte alignments, raw, JSON-escaped or URL-encoded.
  const seen = new Set<string>();
  for (const [inner, texts] of [
    ['', [secret]],
    [' of JSON', [jsonEscaped, jsonEscaped.replace(/\//g, '\\/')]],
    [' of a URL', [encodeURIComponent(secret)]],
  ] as const) {
    const standard: string[] = [];
    const urlSafe: string[] = [];
    for (const bytes of texts.flatMap(byteForms)) {
      for (let lead = 0; lead < 3; lead++) {
        const run = base64Run(bytes, lead);
        if (run.length < MIN_BASE64_RUN || seen.has(run)) continue;
        seen.add(run);
        standard.push(escapeRegExp(run));
        urlSafe.push(escapeRegExp(run.replace(/\+/g, '-').replace(/\//g, '_')));
      }
    }
    if (standard.length) forms.push({ encoding: `base64${inner}`, pattern: standard.join('|') });
    if (urlSafe.length) forms.push({ encoding: `base64url${inner}`, pattern: urlSafe.join('|') });
  }
  return forms;
}

/**
 * One expression that finds every form of the secret; of each match, the capture group that is
 * set names the form (group i + 1 for `forms[i]`).
 */
export function formsExpression(forms: SecretForm[]): RegExp {
  return new RegExp(forms.map((form) => `(${form.pattern})`).join('|'), 'g');
}
