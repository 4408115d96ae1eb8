/**
 * Secrets out of every text that reaches an error: each secret in every form a runtime (or
 * whatever answers at that URL) may echo it in (secret-forms.ts), and the credentials a URL
 * carries in its userinfo or query.
 */
import { WIDEST_CHARACTER_FORM, formsExpression, secretForms } from './secret-forms';

const MASK = '***';
/** Secrets remembered at once: the current token, a few rotated ones, and fixed ones (proxy password). */
const MAX_SECRETS = 8;

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
    this.secrets.set(secret, known ?? formsExpression(secretForms(secret)));
    if (known) return;
    if (this.secrets.size > MAX_SECRETS) this.secrets.delete(this.secrets.keys().next().value as string);
    this.widest = Math.max(...[...this.secrets.keys()].map((s) => s.length * WIDEST_CHARACTER_FORM));
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
