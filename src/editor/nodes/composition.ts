/** mimoe-composition: several mims at once, undone when one fails. */
import { ACTION_DEFAULTS } from '../../mcm/defaults';
import { specs } from '../checks';
import { SPEC_TYPES, typedField } from '../dialog';
import { Form } from '../rows';
import { actionBehaviour, configDefault, nameDefault, NodeEditor, typedDefaults } from './common';
import { deployPolicyDefaults, deployPolicyRows, prepareDeployPolicy } from './deploy';

const TYPE = 'mimoe-composition';

/** The number of mims of a composition written in the node, for its label. */
function count(node: EditorNode): number {
  if (!node.specs || (node.specsType ?? 'json') !== 'json') return 0;
  try {
    const parsed: unknown = JSON.parse(String(node.specs));
    return Array.isArray(parsed) ? parsed.length : 0;
  } catch {
    return 0; // an invalid composition is flagged by validation; the label stays plain
  }
}

export const composition: NodeEditor = {
  defaults: () => ({
    name: nameDefault(),
    server: configDefault(),
    ...typedDefaults('specs', { type: TYPE, defaultType: 'json', json: specs }),
    ...deployPolicyDefaults(TYPE),
    rollback: { value: ACTION_DEFAULTS.compositionRollback },
  }),
  behaviour: actionBehaviour(TYPE, {
    label() {
      const mims = count(this);
      return mims > 0 ? this._(`${TYPE}.node.count`, { count: mims }) : this._(`${TYPE}.node.default`);
    },
    output: () => 'mims',
    oneditprepare() {
      typedField('specs', SPEC_TYPES, 'json');
      prepareDeployPolicy(TYPE);
    },
  }),
  template() {
    const form = new Form(TYPE);
    return [
      form.config(),
      form.typed('specs', 'cubes'),
      form.hint('specs'),
      ...deployPolicyRows(form),
      form.checkbox('rollback'),
      form.hint('rollback'),
      form.name(),
    ];
  },
};
