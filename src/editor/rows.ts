/**
 * The dialogs' templates, built from rows. Every text is a `data-i18n` key of the dialog's own
 * catalog (`<type>.label.<field>`, `<type>.placeholder.<field>`, `<type>.hint.<key>`,
 * `<type>.<field>.<value>` for a select's options); Node-RED fills them in when the dialog opens.
 */

export interface RowOptions {
  /** Classes of the row besides form-row: rows shown or hidden together. */
  classes?: string;
  /** A placeholder from `<type>.placeholder.<field>`. */
  placeholder?: boolean;
  /** The input's CSS width. */
  width?: string;
  /** A short text after the input: `<type>.label.<unit>`. */
  unit?: string;
  /** A password field. */
  password?: boolean;
}

/** The rows of one dialog: `prefix` is `node-input` for a node, `node-config-input` for a config node. */
export class Form {
  constructor(
    readonly type: string,
    readonly prefix: 'node-input' | 'node-config-input' = 'node-input',
  ) {}

  private key(part: string): string {
    return `${this.type}.${part}`;
  }

  private row(body: string, classes?: string): string {
    return `<div class="form-row${classes ? ` ${classes}` : ''}">${body}</div>`;
  }

  private label(field: string, icon: string): string {
    return `<label for="${this.prefix}-${field}"><i class="fa fa-${icon}"></i> <span data-i18n="${this.key(`label.${field}`)}"></span></label>`;
  }

  private unit(key: string | undefined): string {
    return key ? `<span class="mimoe-inline-hint" data-i18n="${this.key(`label.${key}`)}"></span>` : '';
  }

  /** An input element (no row): text or password, with its placeholder and width. */
  private input(field: string, o: RowOptions, attributes = ''): string {
    const placeholder = o.placeholder ? ` data-i18n="[placeholder]${this.key(`placeholder.${field}`)}"` : '';
    const width = o.width ? ` style="width: ${o.width}"` : '';
    return `<input type="${o.password ? 'password' : 'text'}" id="${this.prefix}-${field}"${width}${placeholder}${attributes}>`;
  }

  /** A labelled text input. */
  text(field: string, icon: string, o: RowOptions = {}): string {
    return this.row(this.label(field, icon) + this.input(field, o) + this.unit(o.unit), o.classes);
  }

  /** A TypedInput field (`<field>` and its type in `<field>Type`), with its placeholder. */
  typed(field: string, icon: string, classes?: string): string {
    const input = this.input(field, { placeholder: true, width: '70%' });
    return this.row(`${this.label(field, icon)}${input}<input type="hidden" id="${this.prefix}-${field}Type">`, classes);
  }

  /** A number of `unit`s (seconds, requests, ...). */
  number(field: string, icon: string, unit: string, classes?: string): string {
    return this.text(field, icon, { width: '80px', unit, classes });
  }

  /** A select whose options' texts are `<type>.<field>.<value>`. */
  select(field: string, icon: string, values: readonly string[], classes?: string): string {
    const options = values.map((value) => `<option value="${value}" data-i18n="${this.key(`${field}.${value}`)}"></option>`).join('');
    return this.row(`${this.label(field, icon)}<select id="${this.prefix}-${field}">${options}</select>`, classes);
  }

  /** A checkbox with its label after it; `extra` goes into the row too (a hidden field). */
  checkbox(field: string, classes?: string, extra = ''): string {
    const id = `${this.prefix}-${field}`;
    const label = `<label for="${id}" class="mimoe-checkbox-label" data-i18n="${this.key(`label.${field}`)}"></label>`;
    return this.row(
      `<label>&nbsp;</label><input type="checkbox" id="${id}">${label}${extra}`,
      `mimoe-checkbox-row${classes ? ` ${classes}` : ''}`,
    );
  }

  /** An editable list (`<ol id="<prefix>-mimoe-<field>">`) under its label and a short hint. */
  list(field: string, icon: string, hint: string, classes?: string): string {
    const label = `<label><i class="fa fa-${icon}"></i> <span data-i18n="${this.key(`label.${field}`)}"></span></label>`;
    const text = `<span class="mimoe-inline-hint" data-i18n="${this.key(hint)}"></span>`;
    return this.row(`${label}${text}<ol id="${this.prefix}-mimoe-${field}"></ol>`, `mimoe-list-row${classes ? ` ${classes}` : ''}`);
  }

  /** A line of explanation under a row: `<type>.hint.<key>`. */
  hint(key: string, classes?: string): string {
    return `<div class="mimoe-hint${classes ? ` ${classes}` : ''}" data-i18n="${this.key(`hint.${key}`)}"></div>`;
  }

  /** A line of explanation the dialog fills in (the chosen option's help). */
  hintSlot(id: string, classes?: string): string {
    return `<div class="mimoe-hint${classes ? ` ${classes}` : ''}" id="${id}"></div>`;
  }

  /** A button (its text `<type>.<key>`) with the line that shows its request's result beside it. */
  button(id: string, icon: string, key: string): string {
    const button = `<button type="button" class="red-ui-button" id="${id}"><i class="fa fa-${icon}"></i> <span data-i18n="${this.key(key)}"></span></button>`;
    return this.row(
      `<label>&nbsp;</label>${button}<span id="${id}-result" class="mimoe-test-result" role="status" aria-live="polite"></span>`,
    );
  }

  /** A folding link (`<type>.label.<key>`) that shows or hides the rows after it (dialog.section). */
  fold(id: string, key: string, rows: string[], classes: string): string {
    const link = `<a href="#" id="${id}" role="button"><i class="fa fa-caret-right"></i> <span data-i18n="${this.key(`label.${key}`)}"></span></a>`;
    return this.row(`<label>&nbsp;</label>${link}`) + `<div class="${classes}">${rows.join('')}</div>`;
  }

  /** Two number inputs in one row: `first` `firstUnit` `second` `secondUnit` (the second named by aria-label). */
  pair(first: string, second: string, icon: string, widths: [string, string], units: [string, string]): string {
    const secondInput = this.input(second, { width: widths[1] }, ` data-i18n="[aria-label]${this.key(`label.${second}`)}"`);
    return this.row(
      this.label(first, icon) + this.input(first, { width: widths[0] }) + this.unit(units[0]) + secondInput + this.unit(units[1]),
    );
  }

  /** The config node select of a node (its Server). */
  config(field = 'server', icon = 'server'): string {
    return this.text(field, icon);
  }

  /** The node's name, last in every dialog. */
  name(): string {
    return this.text('name', 'tag', { placeholder: true });
  }
}

/**
 * Puts a dialog's template into the page, where Node-RED looks for it when the dialog opens
 * (`script[data-template-name=<type>]`).
 */
export function addTemplate(type: string, rows: string[]): void {
  const existing = document.querySelector(`script[data-template-name="${type}"]`);
  const script = existing ?? document.createElement('script');
  script.setAttribute('type', 'text/html');
  script.setAttribute('data-template-name', type);
  script.textContent = rows.join('\n');
  if (!existing) document.body.appendChild(script);
}
