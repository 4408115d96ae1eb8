/** mimoe-deploy: one mim from an uploaded image. */
import { ACTION_DEFAULTS } from '../../mcm/defaults';
import { IF_EXISTS } from '../../mcm/models';
import { MIM_NAME, envList as checkEnvList, noWhitespace, number, oneOf } from '../checks';
import { optionHelp, spinners, toggleRows, typedField } from '../dialog';
import { runtimeSuggestions } from '../autocomplete';
import { envList, readEnvList } from '../pair-list';
import { Form } from '../rows';
import { t } from '../texts';
import { actionBehaviour, configDefault, nameDefault, namedLabel, NodeEditor, typedDefaults } from './common';

const TYPE = 'mimoe-deploy';

/** The If it exists select and its help line, and the wait until started (shared with mimoe-rollout and mimoe-composition). */
export function deployPolicyRows(form: Form, classes?: string): string[] {
  const waitRow = `${form.type}-wait-row`;
  return [
    form.select('ifExists', 'clone', IF_EXISTS, classes),
    form.hintSlot(`${form.type}-ifExists-help`, classes),
    form.checkbox('waitStarted', classes),
    form.number('waitTimeout', 'clock-o', 'seconds', waitRow),
  ];
}

/** The defaults of the deploy policy rows. */
export function deployPolicyDefaults(type: string): Record<string, NodeProperty> {
  return {
    ifExists: { value: ACTION_DEFAULTS.ifExists, validate: oneOf(type, 'ifExists', IF_EXISTS) },
    waitStarted: { value: ACTION_DEFAULTS.waitStarted },
    waitTimeout: { value: ACTION_DEFAULTS.waitTimeout, validate: number(type, 'waitTimeout', { min: 1 }) },
  };
}

/** Wires the deploy policy rows of `type`'s dialog. */
export function prepareDeployPolicy(type: string): void {
  optionHelp('#node-input-ifExists', `#${type}-ifExists-help`, type, 'ifExists.help');
  spinners({ waitTimeout: 1 });
  toggleRows('#node-input-waitStarted', `.${type}-wait-row`);
}

export const deploy: NodeEditor = {
  defaults: () => ({
    name: nameDefault(),
    server: configDefault(),
    ...typedDefaults('mimName', { type: TYPE, text: MIM_NAME }),
    ...typedDefaults('image', { type: TYPE, text: noWhitespace(TYPE, 'validation.imageWhitespace') }),
    env: { value: [], validate: checkEnvList(TYPE) },
    ...deployPolicyDefaults(TYPE),
  }),
  behaviour: actionBehaviour(TYPE, {
    label: namedLabel(TYPE, 'mimName', 'name'),
    output: () => 'mim',
    oneditprepare() {
      typedField('mimName');
      typedField('image');
      RED.popover.tooltip($('#node-input-image').closest('.form-row').find('label'), t(TYPE, 'tooltip.image'));
      runtimeSuggestions({ input: '#node-input-image', server: '#node-input-server', kind: () => 'images' });
      envList(TYPE, this.env);
      prepareDeployPolicy(TYPE);
    },
    oneditsave() {
      this.env = readEnvList();
    },
  }),
  template() {
    const form = new Form(TYPE);
    return [
      form.config(),
      form.typed('mimName', 'cube'),
      form.typed('image', 'archive'),
      form.list('env', 'list', 'env.hint'),
      ...deployPolicyRows(form),
      form.name(),
    ];
  },
};
