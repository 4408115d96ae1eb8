/**
 * Secrets out of every text that reaches an error. A runtime (or whatever answers at that URL)
 * may echo the key raw, JSON-escaped (`\/`, `\u00xx`), URL-encoded or base64-encoded, alone or
 * inside "Bearer <key>"; a URL may carry credentials in its userinfo or query.
 */

const MASK = '***';
/** Secrets remembered at once: the current token, a few rotated ones, and fixed ones (proxy password). */
const MAX_SECRETS = 8;
/** A base64 run shorter than this is too common to stand for a secret. */
const MIN_BASE64_RUN = 4;
/** The longest way one character can be written by the encodings handled here (URL-encoded UTF-8, 4 bytes). */
const WIDEST_CHAR = 12;

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

/** The bytes a character may have been sent as: UTF-8, and Latin-1 (how HTTP headers carry it). */
function byteForms(text: string): Buffer[] {
  const utf8 = Buffer.from(text, 'utf8');
  // eslint-disable-next-line no-control-regex -- the test is for characters beyond ASCII
  return /^[\u0000-\u007f]*$|[^\u0000-\u00ff]/.test(text) ? [utf8] : [utf8, Buffer.from(text, 'latin1')];
}

/** Every form one character takes in the encodings handled: itself, JSON escapes, URL-encoded bytes. */
function charPattern(char: string): string {
  const forms = [escapeRegExp(char)];
  if (JSON_SHORT_ESCAPES[char]) forms.push(escapeRegExp(JSON_SHORT_ESCAPES[char]));
  // JSON writes a character beyond the BMP as two \u escapes (a surrogate pair).
  forms.push(Array.from({ length: char.length }, (_, i) => `\\\\u${hexPattern(char.charCodeAt(i), 4)}`).join(''));
  for (const bytes of byteForms(char)) forms.push([...bytes].map((byte) => `%${hexPattern(byte, 2)}`).join(''));
  if (char === ' ') forms.push('\\+');
  return `(?:${forms.join('|')})`;
}

/**
 * The base64 runs that stand for the secret wherever it sits in an encoded text ("Bearer <key>",
 * a JSON blob, a header line): one per alignment of its first byte, without the edge characters
 * it shares with its neighbours; of its UTF-8 and Latin-1 bytes, raw and JSON-escaped; in the
 * standard and the URL-safe alphabet.
 */
function base64Runs(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  const texts = new Set([secret, escaped, escaped.replace(/\//g, '\\/')]);
  const runs = new Set<string>();
  for (const bytes of [...texts].flatMap(byteForms)) {
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
      const run = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
      if (run.length >= MIN_BASE64_RUN) runs.add(run).add(run.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...runs];
}

function secretPattern(secret: string): string {
  const encodedForms = [...secret].map(charPattern).join('');
  return [encodedForms, ...base64Runs(secret).map(escapeRegExp)].join('|');
}

/** `scheme://user:pass@` and `?query` of URLs inside a text. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;
const URL_QUERY = /\b([a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#"'<>]*/gi;

function redactUrls(text: string): string {
  return text.replace(URL_USERINFO, `$1${MASK}@`).replace(URL_QUERY, `$1?${MASK}`);
}

/** A URL as it may be shown: userinfo masked, query and fragment cut off (also without a scheme). */
export function maskUrl(url: string): string {
  return url.replace(/^([^/?#]*\/\/)?[^/?#@]*@/, `$1${MASK}@`).replace(/[?#].*$/s, '');
}

/** Knows the secrets of one client and removes them, in every encoding, from texts bound for errors. */
export class Redactor {
  private readonly secrets = new Map<string, RegExp>();
  private widest = 0;

  /** Remembers a secret from now on (blank ones are ignored). */
  add(secret: string | undefined): void {
    if (!secret || !secret.trim()) return;
    const known = this.secrets.get(secret);
    // Newest last, so the oldest is the one forgotten.
    this.secrets.delete(secret);
    this.secrets.set(secret, known ?? new RegExp(secretPattern(secret), 'g'));
    if (known) return;
    if (this.secrets.size > MAX_SECRETS) this.secrets.delete(this.secrets.keys().next().value as string);
    this.widest = Math.max(...[...this.secrets.keys()].map((s) => s.length * WIDEST_CHAR));
  }

  redact(text: string): string {
    let clean = redactUrls(text);
    // Longest first: a short secret inside a longer one must not break the longer one's match.
    const longestFirst = [...this.secrets].sort(([a], [b]) => b.length - a.length);
    for (const [, pattern] of longestFirst) clean = clean.replace(pattern, MASK);
    return clean;
  }

  /**
   * At most `max` characters of the text, redacted before the cut (so no part of a secret
   * survives it), reading only as much of a long text as that needs.
   */
  excerpt(text: string, max: number): string {
    // A secret cut at the window's end stays in clear at the end of the redacted window: the
    // window grows until the redacted text is long enough for that tail never to be shown.
    const enough = max + this.widest + 16;
    for (let window = enough; ; window *= 2) {
      const clean = this.redact(text.slice(0, window));
      if (window >= text.length || clean.length >= enough) return clean.length > max ? `${clean.slice(0, max)}…` : clean;
    }
  }
}
