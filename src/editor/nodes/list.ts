/** mimoe-list: the mims or the images of a runtime. */
import { RESOURCE_KINDS } from '../../mcm/models';
import { oneOf } from '../checks';
import { Form } from '../rows';
import { actionBehaviour, configDefault, nameDefault, NodeEditor } from './common';

const TYPE = 'mimoe-list';

export const list: NodeEditor = {
  defaults: () => ({
    name: nameDefault(),
    server: configDefault(),
    resource: { value: 'mim', validate: oneOf(TYPE, 'resource', RESOURCE_KINDS) },
  }),
  behaviour: actionBehaviour(TYPE, {
    label() {
      return this._(this.resource === 'image' ? `${TYPE}.node.image` : `${TYPE}.node.mim`);
    },
    output: (node) => (node.resource === 'image' ? 'image' : 'mim'),
  }),
  template() {
    const form = new Form(TYPE);
    return [form.config(), form.select('resource', 'cubes', RESOURCE_KINDS), form.name()];
  },
};
