/**
 * The parts of Node-RED's editor API (RED) and of the jQuery, jQuery UI and Node-RED widgets it
 * ships that the editor code uses, typed as far as this code relies on them. Node-RED 4 loads
 * jQuery 3 and jQuery UI 1.13 before any node's editor code.
 */

/** A node (or config node) as the editor holds it: its defaults' values are properties. */
interface EditorNode {
  id: string;
  type: string;
  /** The flow (tab) it is on; unset for a global config node. */
  z?: string;
  /** Disabled. */
  d?: boolean;
  credentials?: Record<string, unknown>;
  [property: string]: unknown;
}

/** A Node-RED 3+ validator: true, or the reason the value is not valid. */
type Validator = (this: EditorNode, value: unknown, options?: { label?: string }) => boolean | string;

interface NodeProperty {
  value: unknown;
  required?: boolean;
  /** A config node type: the property holds the id of such a node. */
  type?: string;
  validate?: Validator;
}

/** What a node type's registerType literal gives Node-RED besides its inline parts. */
interface NodeBehaviour {
  paletteLabel?(this: NodeDefinition): string;
  label?(this: EditorNode & NodeTextSource): string;
  labelStyle?(this: EditorNode): string;
  outputLabels?(this: EditorNode & NodeTextSource, index: number): string;
  onadd?(this: EditorNode): void;
  oneditprepare?(this: EditorNode): void;
  oneditsave?(this: EditorNode): void;
}

/** The `_` Node-RED gives a definition and its nodes: a text of the type's own catalog. */
interface NodeTextSource {
  _(key: string, params?: Record<string, unknown>): string;
}

interface NodeDefinition extends NodeBehaviour, NodeTextSource {
  defaults: Record<string, NodeProperty>;
}

interface RedEditor {
  _(key: string, params?: Record<string, unknown>): string;
  nodes: {
    node(id: string): EditorNode | null;
    eachConfig(visit: (node: EditorNode) => void): void;
    getType(type: string): NodeDefinition;
  };
  popover: { tooltip(target: JQuery, content: string): unknown };
  validators: {
    typedInput(options: { type: string; allowBlank?: boolean }): (value: unknown, options: object) => boolean | string;
  };
}

interface JQueryEvent {
  keyCode?: number;
  preventDefault(): void;
  stopPropagation(): void;
}

/** An item of a jQuery UI autocomplete list. */
interface Suggestion {
  value: string;
  label: string;
  detail?: string;
  /** A line that explains instead of offering a value: shown, never chosen. */
  notice?: boolean;
}

interface AutocompleteOptions {
  minLength: number;
  delay: number;
  appendTo: JQuery | null;
  classes: Record<string, string>;
  source(request: { term: string }, response: (items: Suggestion[]) => void): void;
  focus(): boolean;
  select(event: JQueryEvent, ui: { item: Suggestion }): boolean;
}

interface EditableListOptions<T> {
  addButton: string;
  height: 'auto';
  sortable: boolean;
  removable: boolean;
  addItem(row: JQuery, index: number, data: T): void;
  removeItem?(data: T): void;
}

interface JQueryXhr {
  status: number;
  statusText: string;
  done(handler: (answer: unknown) => void): JQueryXhr;
  fail(handler: (xhr: JQueryXhr) => void): JQueryXhr;
  always(handler: () => void): JQueryXhr;
}

interface JQuery {
  readonly length: number;
  [index: number]: HTMLElement;
  val(): string | undefined;
  val(value: unknown): JQuery;
  text(): string;
  text(value: string): JQuery;
  attr(name: string): string | undefined;
  attr(name: string, value: string): JQuery;
  prop(name: 'checked' | 'disabled'): boolean;
  prop(name: 'checked' | 'disabled', value: boolean): JQuery;
  css(name: string, value: string): JQuery;
  addClass(names: string): JQuery;
  removeClass(names: string): JQuery;
  toggleClass(names: string, on: boolean): JQuery;
  hasClass(name: string): boolean;
  toggle(visible: boolean): JQuery;
  show(): JQuery;
  hide(): JQuery;
  empty(): JQuery;
  append(content: string | JQuery): JQuery;
  appendTo(target: string | JQuery): JQuery;
  insertAfter(target: JQuery): JQuery;
  closest(selector: string): JQuery;
  find(selector: string): JQuery;
  first(): JQuery;
  next(): JQuery;
  each(visit: (this: HTMLElement, index: number) => void): JQuery;
  on(events: string, handler: (event: JQueryEvent) => void): JQuery;
  trigger(event: string): JQuery;
  spinner(options: { min: number }): JQuery;
  typedInput(options: { default: string; types: readonly string[]; typeField: string }): JQuery;
  typedInput(method: 'type'): string;
  typedInput(method: 'instance'): { input?: JQuery } | undefined;
  autocomplete(options: AutocompleteOptions): JQuery;
  autocomplete(method: 'search', term: string): JQuery;
  autocomplete(method: 'close'): JQuery;
  autocomplete(method: 'instance'): { _renderItem(list: JQuery, item: Suggestion): JQuery };
  editableList<T>(options: EditableListOptions<T>): JQuery;
  editableList(method: 'addItem', data: object): JQuery;
  editableList(method: 'items'): JQuery;
}

interface JQueryStatic {
  (selector: string | HTMLElement | JQuery, attributes?: Record<string, string>): JQuery;
  ajax(settings: { url: string; type: 'POST'; contentType: string; data: string; dataType: 'json'; timeout: number }): JQueryXhr;
}

declare const RED: RedEditor;
declare const $: JQueryStatic;
