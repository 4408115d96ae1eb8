/** mimoe-watch: polls a runtime and sends what changed. */
import { WATCH_DEFAULTS } from '../../mcm/defaults';
import { RESOURCE_KINDS } from '../../mcm/models';
import { number, oneOf } from '../checks';
import { spinners } from '../dialog';
import { Form } from '../rows';
import { actionBehaviour, configDefault, nameDefault, NodeEditor } from './common';

const TYPE = 'mimoe-watch';
const RESOURCES = [...RESOURCE_KINDS, 'both'] as const;

export const watch: NodeEditor = {
  defaults: () => ({
    name: nameDefault(),
    server: configDefault(),
    resource: { value: 'mim', validate: oneOf(TYPE, 'resource', RESOURCES) },
    interval: { value: WATCH_DEFAULTS.interval, validate: number(TYPE, 'interval', { min: 1 }) },
  }),
  behaviour: actionBehaviour(TYPE, {
    label() {
      const resource = RESOURCES.find((known) => known === this.resource) ?? 'mim';
      return this._(`${TYPE}.node.${resource}`);
    },
    output: () => 'change',
    oneditprepare() {
      spinners({ interval: 1 });
    },
  }),
  template() {
    const form = new Form(TYPE);
    return [
      form.config(),
      form.select('resource', 'cubes', RESOURCES),
      form.number('interval', 'clock-o', 'seconds'),
      form.hint('interval'),
      form.name(),
    ];
  },
};
