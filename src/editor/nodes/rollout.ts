/** mimoe-rollout: one operation on the members of a fleet, in waves. */
import { ROLLOUT_DEFAULTS } from '../../mcm/defaults';
import { RESOURCE_KINDS, ROLLOUT_OPERATIONS } from '../../mcm/models';
import { MIM_NAME, envList as checkEnvList, ID, names, noWhitespace, number, oneOf, specs, typed } from '../checks';
import { optionalOutput, saveOptionalOutput, SPEC_TYPES, spinners, TYPES, typedField } from '../dialog';
import { envList, readEnvList } from '../pair-list';
import { Form } from '../rows';
import { t } from '../texts';
import { actionBehaviour, configDefault, nameDefault, NodeEditor, typedDefaults } from './common';
import { deployPolicyDefaults, deployPolicyRows, prepareDeployPolicy } from './deploy';

const TYPE = 'mimoe-rollout';
/** The classes of the rows of one operation. */
const op = (operation: string) => `mimoe-rollout-op mimoe-rollout-op-${operation}`;
/** The rows of the operations that deploy (deploy, composition). */
const DEPLOYS = 'mimoe-rollout-deploys';

const checkSpecs = typed({ type: TYPE, typeField: 'specsType', defaultType: 'json', json: specs });

export const rollout: NodeEditor = {
  defaults: () => ({
    name: nameDefault(),
    fleet: configDefault('mimoe-fleet'),
    operation: { value: ROLLOUT_DEFAULTS.operation, validate: oneOf(TYPE, 'operation', ROLLOUT_OPERATIONS) },
    ...typedDefaults('devices', {
      type: TYPE,
      text: (text) => {
        const reason = names(text);
        return reason === true || t(TYPE, 'validation.devices', { reason });
      },
    }),
    ...typedDefaults('mimName', { type: TYPE, text: MIM_NAME }),
    ...typedDefaults('image', { type: TYPE, text: noWhitespace(TYPE, 'validation.imageWhitespace') }),
    env: { value: [], validate: checkEnvList(TYPE) },
    specs: {
      value: '',
      // Checked only while the operation is composition.
      validate(value, options) {
        const operation = $('#node-input-operation').val() || this.operation;
        return operation !== 'composition' || checkSpecs.call(this, value, options);
      },
    },
    specsType: { value: 'json' },
    resource: { value: 'mim', validate: oneOf(TYPE, 'resource', RESOURCE_KINDS) },
    ...typedDefaults('target', { type: TYPE, text: ID }),
    ...typedDefaults('filename', { type: TYPE }),
    ...deployPolicyDefaults(TYPE),
    canary: { value: ROLLOUT_DEFAULTS.canary, validate: number(TYPE, 'canary', { min: 0, integer: true }) },
    parallel: { value: ROLLOUT_DEFAULTS.parallel, validate: number(TYPE, 'parallel', { min: 1, integer: true }) },
    maxFailures: { value: ROLLOUT_DEFAULTS.maxFailures, validate: number(TYPE, 'maxFailures', { min: 0, integer: true }) },
    rollback: { value: ROLLOUT_DEFAULTS.rollback },
    healthCheck: { value: false },
    healthPath: { value: '' },
    healthTimeout: { value: ROLLOUT_DEFAULTS.healthTimeout, validate: number(TYPE, 'healthTimeout', { min: 1 }) },
    deviceOutput: { value: false },
    outputs: { value: 1 },
  }),
  behaviour: actionBehaviour(TYPE, {
    config: ['fleet', 'mimoe-fleet'],
    label() {
      return this._(`${TYPE}.node.operation`, { operation: this.operation || ROLLOUT_DEFAULTS.operation });
    },
    output: (_node, index) => (index === 1 ? 'device' : 'result'),
    oneditprepare() {
      const operation = $('#node-input-operation');
      typedField('devices', [...TYPES, 'json']);
      typedField('mimName');
      typedField('image');
      typedField('specs', SPEC_TYPES, 'json');
      typedField('target');
      typedField('filename');
      envList(TYPE, this.env);
      prepareDeployPolicy(TYPE);
      spinners({ canary: 0, parallel: 1, maxFailures: 0, healthTimeout: 1 });
      const updateOperation = () => {
        const value = operation.val();
        $('.mimoe-rollout-op').hide();
        $(`.mimoe-rollout-op-${value}`).show();
        const deploys = value === 'deploy' || value === 'composition';
        $(`.${DEPLOYS}`).toggle(deploys);
        $('.mimoe-rollout-wait-row').toggle(deploys && $('#node-input-waitStarted').prop('checked'));
        $('.mimoe-rollout-health-row').toggle(deploys && $('#node-input-healthCheck').prop('checked'));
      };
      operation.on('change', updateOperation);
      $('#node-input-waitStarted, #node-input-healthCheck').on('change', updateOperation);
      updateOperation();
      optionalOutput(this, 'deviceOutput');
    },
    oneditsave() {
      saveOptionalOutput(this, 'deviceOutput');
      this.env = readEnvList();
    },
  }),
  template() {
    const form = new Form(TYPE);
    const health = 'mimoe-rollout-health-row';
    return [
      form.config('fleet'),
      form.select('operation', 'cogs', ROLLOUT_OPERATIONS),
      form.typed('devices', 'crosshairs'),
      form.hint('devices'),
      form.typed('mimName', 'cube', op('deploy')),
      form.typed('image', 'archive', op('deploy')),
      form.list('env', 'list', 'env.hint', op('deploy')),
      form.typed('specs', 'cubes', op('composition')),
      form.hint('specs', op('composition')),
      form.select('resource', 'cubes', RESOURCE_KINDS, op('remove')),
      form.typed('target', 'crosshairs', op('remove')),
      form.typed('filename', 'file-archive-o', op('upload')),
      form.hint('filename', op('upload')),
      ...deployPolicyRows(form, DEPLOYS),
      form.checkbox('healthCheck', DEPLOYS),
      form.text('healthPath', 'heartbeat', { placeholder: true, classes: health }),
      form.number('healthTimeout', 'clock-o', 'seconds', health),
      form.hint('health', health),
      form.number('canary', 'flask', 'devicesFirst'),
      form.hint('canary'),
      form.number('parallel', 'tasks', 'devicesAtOnce'),
      form.number('maxFailures', 'exclamation-triangle', 'failedDevices'),
      form.hint('maxFailures'),
      form.checkbox('rollback'),
      form.hint('rollback'),
      form.checkbox('deviceOutput', undefined, '<input type="hidden" id="node-input-outputs">'),
      form.name(),
    ];
  },
};
