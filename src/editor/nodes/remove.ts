/** mimoe-remove: a mim or an image, by id. */
import { ID, oneOf } from '../checks';
import { optionHelp, typedField } from '../dialog';
import { runtimeSuggestions } from '../autocomplete';
import { Form } from '../rows';
import { actionBehaviour, configDefault, nameDefault, namedLabel, NodeEditor, typedDefaults } from './common';

const TYPE = 'mimoe-remove';
/** What mimoe-remove, mimoe-list and a rollout's remove act on. */
export const RESOURCES = ['mim', 'image'] as const;

export const remove: NodeEditor = {
  defaults: () => ({
    name: nameDefault(),
    server: configDefault(),
    resource: { value: 'mim', validate: oneOf(TYPE, 'resource', RESOURCES) },
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
      form.select('resource', 'cubes', RESOURCES),
      form.typed('target', 'crosshairs'),
      form.hintSlot('mimoe-remove-target-help'),
      form.name(),
    ];
  },
};
