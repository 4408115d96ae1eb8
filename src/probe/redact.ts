/**
 * Keeps the API key out of the probe's exchange log: every form of it a runtime, a proxy or a
 * gateway may echo (src/mcm/secret-forms.ts) becomes a placeholder. Only the key changes: the log
 * keeps URLs and every other text as the device sent them.
 */
import { SecretForm, formsExpression, secretForms } from '../mcm/secret-forms';

export const KEY_PLACEHOLDER = '[key]';

/** Shorter keys could not be told apart from ordinary text in the log. */
export const MIN_KEY_LENGTH = 8;

export class KeyRedactor {
  private readonly forms: SecretForm[];
  private readonly expression: RegExp;

  constructor(key: string) {
    this.forms = secretForms(key);
    this.expression = formsExpression(this.forms);
  }

  /** The text with every form of the key replaced by KEY_PLACEHOLDER. */
  text(text: string): string {
    return text.replace(this.expression, KEY_PLACEHOLDER);
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
    const found = new Set<string>();
    for (const match of text.matchAll(this.expression)) {
      found.add(this.forms[match.findIndex((group, index) => index > 0 && group !== undefined) - 1].encoding);
    }
    return [...found];
  }
}
