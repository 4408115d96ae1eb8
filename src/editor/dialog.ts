/** Small helpers of the dialogs' oneditprepare. */
import { t } from './texts';

/** TypedInput types of fields whose value may come from msg, flow, global or env. */
export const TYPES = ['str', 'msg', 'flow', 'global', 'env'] as const;
/** TypedInput types of the composition specs. */
export const SPEC_TYPES = ['json', 'msg', 'flow', 'global'] as const;

/** Makes `#node-input-<field>` a TypedInput whose type is kept in `#node-input-<field>Type`. */
export function typedField(field: string, types: readonly string[] = TYPES, defaultType = 'str'): JQuery {
  return $(`#node-input-${field}`).typedInput({ default: defaultType, types, typeField: `#node-input-${field}Type` });
}

/** The visible text input of a TypedInput (the original element is hidden). */
export function typedVisibleInput($el: JQuery): JQuery {
  let instance: { input?: JQuery } | undefined;
  try {
    instance = $el.typedInput('instance');
  } catch {
    instance = undefined;
  }
  if (instance?.input) return instance.input;
  if ($el.hasClass('red-ui-typedInput')) return $el.next().find('input.red-ui-typedInput-input').first();
  return $el;
}

export function typedType($el: JQuery): string {
  try {
    return $el.typedInput('type');
  } catch {
    return 'str';
  }
}

/** Shows `rows` while the checkbox is checked. */
export function toggleRows(checkbox: string, rows: string | JQuery): void {
  const $box = $(checkbox);
  const update = () => {
    $(rows).toggle($box.prop('checked'));
  };
  $box.on('change', update);
  update();
}

/** A folding part of a dialog: the link `toggle` shows or hides `rows`; shown at first when `open`. */
export function section(toggle: string, rows: JQuery, open: boolean): void {
  const $toggle = $(toggle);
  let shown = false;
  const show = (visible: boolean) => {
    shown = visible;
    rows.toggle(visible);
    $toggle.attr('aria-expanded', visible ? 'true' : 'false');
    $toggle.find('i.fa').first().toggleClass('fa-caret-right', !visible).toggleClass('fa-caret-down', visible);
  };
  $toggle.on('click', (evt) => {
    evt.preventDefault();
    show(!shown);
  });
  show(open);
}

/** Keeps the text of `target` on the explanation `<type>.<prefix>.<selected value>` of a select. */
export function optionHelp(select: string, target: string, type: string, prefix: string): void {
  const $select = $(select);
  const update = () => {
    const value = $select.val();
    $(target).text(value ? t(type, `${prefix}.${value}`) : '');
  };
  $select.on('change', update);
  update();
}

/** Spinners (number fields with arrows) on `#node-input-<field>`, each with its least value. */
export function spinners(least: Record<string, number>, prefix = 'node-input'): void {
  for (const [field, min] of Object.entries(least)) $(`#${prefix}-${field}`).spinner({ min });
}

/**
 * The value for a hidden `#node-input-outputs` when the number of outputs goes from `current` to
 * `wanted`: an output map, so Node-RED drops the wires of a removed port instead of leaving them.
 */
export function outputsMap(current: unknown, wanted: number): string {
  const map: Record<string, string> = {};
  const now = Math.max(1, parseInt(String(current), 10) || 1);
  for (let i = 0; i < now; i++) map[String(i)] = i < wanted ? String(i) : '-1';
  for (let i = now; i < wanted; i++) map[`new${i}`] = String(i);
  return JSON.stringify(map);
}

/** The number of outputs the checkbox `#node-input-<box>` asks for: a second one while it is checked. */
const outputsWanted = (box: string) => ($(`#node-input-${box}`).prop('checked') ? 2 : 1);

/**
 * For oneditprepare: a second output while the checkbox `#node-input-<box>` is checked. The
 * hidden outputs field holds an output map, so the wires of a removed port go with it.
 */
export function optionalOutput(node: EditorNode, box: string): void {
  const update = () => {
    $('#node-input-outputs').val(outputsMap(node.outputs, outputsWanted(box)));
  };
  $(`#node-input-${box}`).on('change', update);
  update();
}

/** For oneditsave: the outputs optionalOutput shows. */
export function saveOptionalOutput(node: EditorNode, box: string): void {
  $('#node-input-outputs').val(outputsMap(node.outputs, outputsWanted(box)));
  node.outputs = outputsWanted(box);
}

/** The value of a config node select (`#node-config-input-<field>`); `_ADD_` is its "add new" entry, not a node. */
export function configChoice(field: string): string {
  const id = $(`#node-config-input-${field}`).val();
  return id && id !== '_ADD_' ? id : '';
}

/** A line beside a button that shows a request's state: busy, ok or error, with its text. */
export function resultLine(selector: string): (style: 'busy' | 'ok' | 'error', text: string) => void {
  const $result = $(selector);
  return (style, text) => {
    $result.empty().removeClass('mimoe-ok mimoe-error mimoe-busy').addClass(`mimoe-${style}`);
    if (style === 'busy') $('<i class="spinner">').appendTo($result);
    else
      $('<i class="fa">')
        .addClass(style === 'ok' ? 'fa-check' : 'fa-exclamation-triangle')
        .appendTo($result);
    $result.append(' ');
    $('<span>').text(text).appendTo($result);
  };
}

/**
 * For a node's `onadd`: a new node whose `field` (a config node select) is blank takes the config
 * node of `type` when exactly one can be chosen (global, or on the node's own flow; not disabled),
 * so a node dropped into a flow that has one server is ready without opening its dialog.
 */
export function defaultConfig(node: EditorNode, field: string, type: string): void {
  if (node[field]) return;
  const candidates: string[] = [];
  RED.nodes.eachConfig((config) => {
    if (config.type === type && !config.d && (!config.z || config.z === node.z)) candidates.push(config.id);
  });
  if (candidates.length === 1) node[field] = candidates[0];
}
