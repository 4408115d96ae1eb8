/** mimoe-remove: a mim or an image, by id. */
import { RESOURCE_KINDS } from '../../mcm/models';
import { ID, oneOf } from '../checks';
import { optionHelp, typedField } from '../dialog';
import { runtimeSuggestions } from '../autocomplete';
import { Form } from '../rows';
import { actionBehaviour, configDefault, nameDefault, namedLabel, NodeEditor, typedDefaults } from './common';

const TYPE = 'mimoe-remove';

export const remove: NodeEditor = {
  defaults: () => ({
    name: nameDefault(),
    server: configDefault(),
    resource: { value: 'mim', validate: oneOf(TYPE, 'resource', RESOURCE_KINDS) },
    ...typedDefaults('target', { type: TYPE, text: ID }),
  }),
  behaviour: actionBehaviour(TYPE, {
    label: namedLabel(TYPE, 'target', 'id', (node) => (node.resource === 'image' ? 'image' : 'mim')),
    output: () => 'result',
    oneditprepare() {
      const resource = $('#node-input-resource');
      typedField('target');
      optionHelp('#node-input-resource', '#mimoe-remove-target-help', TYPE, 'hint');
      runtimeSuggestions({
        input: '#node-input-target',
        server: '#node-input-server',
        kind: () => (resource.val() === 'image' ? 'images' : 'mims'),
        imageIds: true,
      });
    },
  }),
  template() {
    const form = new Form(TYPE);
    return [
      form.config(),
      form.select('resource', 'cubes', RESOURCE_KINDS),
      form.typed('target', 'crosshairs'),
      form.hintSlot('mimoe-remove-target-help'),
      form.name(),
    ];
  },
};
