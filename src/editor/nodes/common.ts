/** What every node type's editor has: its defaults, its behaviour and its dialog's rows. */
import { defaultConfig } from '../dialog';
import { typed, TypedCheck } from '../checks';

export interface NodeEditor {
  /** The `defaults` of the registerType literal: fresh objects for each type (Node-RED changes them). */
  defaults(): Record<string, NodeProperty>;
  /** Labels, oneditprepare and the rest. */
  behaviour: NodeBehaviour;
  /** The dialog's rows. */
  template(): string[];
}

export const nameDefault = (): NodeProperty => ({ value: '' });

/** A config node select: the mimOE server of an action node, the fleet of a rollout. */
export const configDefault = (type = 'mimoe-config'): NodeProperty => ({ value: '', type, required: true });

/** A TypedInput field and its type field: `{<field>, <field>Type}`. */
export function typedDefaults(field: string, check: Omit<TypedCheck, 'typeField'>): Record<string, NodeProperty> {
  const typeField = `${field}Type`;
  return {
    [field]: { value: '', validate: typed({ ...check, typeField }) },
    [typeField]: { value: check.defaultType ?? 'str' },
  };
}

/**
 * A label that names the literal string value of a TypedInput `field` (`<type>.node.named`, the
 * value as `param`), else `<type>.node.<fallback>`.
 */
export function namedLabel(
  type: string,
  field: string,
  param: string,
  fallback: (node: EditorNode) => string = () => 'default',
): ActionBehaviour['label'] {
  return function () {
    const value = this[field];
    if (value && (this[`${field}Type`] ?? 'str') === 'str') return this._(`${type}.node.named`, { [param]: String(value) });
    return this._(`${type}.node.${fallback(this)}`);
  };
}

export interface ActionBehaviour {
  /** The label of a node without a name. */
  label(this: EditorNode & NodeTextSource): string;
  /** The catalog key (under `<type>.outputs`) of an output's label. */
  output(node: EditorNode, index: number): string;
  /** The config node select and its type: the server (default), or a rollout's fleet. */
  config?: [string, string];
  oneditprepare?(this: EditorNode): void;
  oneditsave?(this: EditorNode): void;
}

/** The behaviour of a node in a flow (not a config node): its name, if set, is its label, in italics. */
export function actionBehaviour(type: string, own: ActionBehaviour): NodeBehaviour {
  const [field, configType] = own.config ?? ['server', 'mimoe-config'];
  return {
    paletteLabel() {
      return this._(`${type}.paletteLabel`);
    },
    label() {
      return typeof this.name === 'string' && this.name ? this.name : own.label.call(this);
    },
    labelStyle() {
      return this.name ? 'node_label_italic' : '';
    },
    outputLabels(index) {
      return this._(`${type}.outputs.${own.output(this, index)}`);
    },
    onadd() {
      defaultConfig(this, field, configType);
    },
    oneditprepare: own.oneditprepare,
    oneditsave: own.oneditsave,
  };
}
