/** mimoe-upload: an image tar onto a runtime, with its progress on an optional second output. */
import { optionalOutput, saveOptionalOutput, typedField } from '../dialog';
import { Form } from '../rows';
import { actionBehaviour, configDefault, nameDefault, NodeEditor, typedDefaults } from './common';

const TYPE = 'mimoe-upload';

export const upload: NodeEditor = {
  defaults: () => ({
    name: nameDefault(),
    server: configDefault(),
    ...typedDefaults('filename', { type: TYPE }),
    progressOutput: { value: false },
    outputs: { value: 1 },
  }),
  behaviour: actionBehaviour(TYPE, {
    label() {
      return this._(`${TYPE}.node.default`);
    },
    output: (_node, index) => (index === 1 ? 'progress' : 'image'),
    oneditprepare() {
      typedField('filename');
      optionalOutput(this, 'progressOutput');
    },
    oneditsave() {
      saveOptionalOutput(this, 'progressOutput');
    },
  }),
  template() {
    const form = new Form(TYPE);
    return [
      form.config(),
      form.typed('filename', 'file-archive-o'),
      form.hint('filename'),
      form.checkbox('progressOutput', undefined, '<input type="hidden" id="node-input-outputs">'),
      form.name(),
    ];
  },
};
