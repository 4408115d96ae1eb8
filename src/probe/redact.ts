/**
 * Keeps the API key out of the probe's exchange log. A runtime, a proxy or a gateway may echo the
 * key back in any form, so every form it could take in a text is listed here: raw, JSON-escaped,
 * URL-encoded (once or twice), hex, and base64/base64url of the raw, JSON-escaped or URL-encoded
 * key at each of the three byte alignments (so a key inside a longer encoded blob, such as
 * "Bearer <key>", "user:<key>" or a JSON document, is found too).
 */
export const KEY_PLACEHOLDER = '[key]';

/** Shorter keys could not be told apart from ordinary text in the log. */
export const MIN_KEY_LENGTH = 8;

/** Base64 runs shorter than this say too little to be searched for. */
const MIN_BASE64_RUN = 4;

export interface KeyForm {
  encoding: string;
  text: string;
  /** Hex digits and percent escapes may be written in either case. */
  ignoreCase: boolean;
}

/** Every form the key may take in a text, longest first (so a longer form is replaced whole). */
export function keyForms(key: string): KeyForm[] {
  const forms: KeyForm[] = [];
  const add = (encoding: string, text: string, ignoreCase = false): void => {
    if (text.length > 0 && !forms.some((form) => form.text === text)) forms.push({ encoding, text, ignoreCase });
  };
  const bytes = Buffer.from(key, 'utf8');
  const json = JSON.stringify(key).slice(1, -1);
  const url = encodeURIComponent(key);
  add('raw', key);
  add('JSON-escaped', json);
  add('JSON-escaped', json.replace(/\//g, '\\/'));
  const units = Array.from({ length: key.length }, (_, i) => `\\u${key.charCodeAt(i).toString(16).padStart(4, '0')}`);
  add('JSON-escaped', units.join(''), true);
  add('URL-encoded', url, true);
  add('URL-encoded', url.replace(/%20/g, '+'), true);
  add('URL-encoded', [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''), true);
  add('URL-encoded twice', encodeURIComponent(url), true);
  add('hex', bytes.toString('hex'), true);
  add('base64 of "Bearer <key>"', Buffer.from(`Bearer ${key}`).toString('base64'));
  // Inside a base64 blob the key may have been raw, JSON-escaped (a JSON document) or URL-encoded.
  for (const [inner, text] of [
    ['', key],
    [' of JSON', json],
    [' of a URL', url],
  ]) {
    for (let lead = 0; lead < 3; lead++) {
      const run = base64Run(Buffer.from(text, 'utf8'), lead);
      if (run.length < MIN_BASE64_RUN) continue;
      add(`base64${inner}`, run);
      add(`base64url${inner}`, run.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return forms.sort((a, b) => b.text.length - a.text.length);
}

/**
 * The base64 characters that depend on the key's bytes alone when `lead` other bytes precede it
 * in a 3-byte group: the groups that mix in bytes before or after the key are left out.
 */
function base64Run(key: Buffer, lead: number): string {
  const padded = Buffer.concat([Buffer.alloc(lead), key]);
  const encoded = padded.toString('base64');
  const whole = Math.floor(padded.length / 3);
  return encoded.slice(lead === 0 ? 0 : 4, whole * 4);
}

function pattern(form: KeyForm): RegExp {
  return new RegExp(form.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), form.ignoreCase ? 'gi' : 'g');
}

export class KeyRedactor {
  private readonly forms: KeyForm[];

  constructor(key: string) {
    this.forms = keyForms(key);
  }

  /** The text with every form of the key replaced by KEY_PLACEHOLDER. */
  text(text: string): string {
    let out = text;
    for (const form of this.forms) out = out.replace(pattern(form), KEY_PLACEHOLDER);
    return out;
  }

  /** A copy of a JSON-like value with every string (object keys included) redacted. */
  value<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.value(item)) as T;
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [name, item] of Object.entries(value)) out[this.text(name)] = this.value(item);
      return out as T;
    }
    return value;
  }

  /** The encodings in which the key still appears in the text (none, for a text that is safe to share). */
  leaks(text: string): string[] {
    return [...new Set(this.forms.filter((form) => pattern(form).test(text)).map((form) => form.encoding))];
  }
}
