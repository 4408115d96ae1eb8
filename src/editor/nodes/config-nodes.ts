/**
 * The two config nodes: mimoe-config (one mimOE runtime) and mimoe-fleet (several). Their
 * connection settings are the same rows (connection.ts), each with its own catalog's texts.
 */
import { CONNECTION_DEFAULTS, FLEET_DEFAULTS } from '../../mcm/defaults';
import { configUrl, members, names, number, oneOf, urlProblem } from '../checks';
import {
  connectionTest,
  fleetMembers,
  MIMS_RESOURCES,
  prepareConnectionRows,
  requestRows,
  selfSignedAndProxyRows,
  slowLinkRows,
} from '../connection';
import { spinners, toggleRows } from '../dialog';
import { memberList, readMemberList } from '../pair-list';
import { Form } from '../rows';
import { shared, t } from '../texts';
import { NodeEditor } from './common';

/** The connection settings both config nodes have, checked with the texts of `type`. */
function connectionDefaults(type: string): Record<string, NodeProperty> {
  const d = CONNECTION_DEFAULTS;
  return {
    clientId: { value: '' },
    timeout: { value: d.timeout, validate: number(type, 'timeout', { above: 0 }) },
    concurrency: { value: d.concurrency, validate: number(type, 'concurrency', { min: 1, integer: true }) },
    resource: { value: d.resource, validate: oneOf(type, 'resource', MIMS_RESOURCES) },
    tls: { value: '', type: 'tls-config', required: false },
    insecure: { value: false },
    proxy: { value: '', type: 'http proxy', required: false },
    answerTimeout: { value: d.answerTimeout, validate: number(type, 'answerTimeout', { above: 0 }) },
    lowSpeedBytes: { value: d.lowSpeedBytes, validate: number(type, 'lowSpeedBytes', { min: 1, integer: true }) },
    lowSpeedWindow: { value: d.lowSpeedWindow, validate: number(type, 'lowSpeedWindow', { above: 0 }) },
  };
}

/** A config node's palette label and label: its name, else `fallback`, else `<type>.label.unnamed`. */
function configBehaviour(type: string, fallback: string, own: NodeBehaviour): NodeBehaviour {
  return {
    paletteLabel() {
      return this._(`${type}.paletteLabel`);
    },
    label() {
      return String(this.name || this[fallback] || this._(`${type}.label.unnamed`));
    },
    ...own,
  };
}

const CONFIG = 'mimoe-config';

export const config: NodeEditor = {
  defaults: () => ({
    name: { value: '' },
    url: { value: '', validate: configUrl },
    ...connectionDefaults(CONFIG),
    tokenSource: {
      value: CONNECTION_DEFAULTS.tokenSource,
      validate: oneOf(CONFIG, 'tokenSource', ['credential', 'file']),
    },
    keyFile: { value: '' },
  }),
  behaviour: configBehaviour(CONFIG, 'url', {
    oneditprepare() {
      const form = $('#node-config-input-url').closest('form');
      // The TLS settings show while the URL may be https (one from an environment variable may be).
      const updateHttps = prepareConnectionRows(this, form, () => [$('#node-config-input-url').val() ?? '']);
      const updateSource = () => {
        const file = $('#node-config-input-tokenSource').val() === 'file';
        form.find('.mimoe-token-file').toggle(file);
        form.find('.mimoe-token-credential').toggle(!file);
      };
      $('#node-config-input-url').on('change keyup input', updateHttps);
      $('#node-config-input-tokenSource').on('change', updateSource);
      updateSource();
      connectionTest(this.id, {
        tooltip: shared('test.tooltip'),
        working: shared('test.testing'),
        ok: (answer) => shared('test.ok', { mims: answer.mims, count: answer.mims, url: answer.url ?? '' }),
        failed: (reason) => (reason ? `${shared('test.failed')}: ${reason}` : shared('test.failed')),
      });
    },
  }),
  template() {
    const form = new Form(CONFIG, 'node-config-input');
    const credential = 'mimoe-token-credential';
    const file = 'mimoe-token-file';
    return [
      form.name(),
      form.text('url', 'globe', { placeholder: true }),
      form.hint('url'),
      form.text('tls', 'lock', { classes: 'mimoe-https-only' }),
      ...selfSignedAndProxyRows(form),
      form.select('tokenSource', 'key', ['credential', 'file']),
      form.text('token', 'lock', { placeholder: true, password: true, classes: credential }),
      form.hint('token', credential),
      form.text('keyFile', 'file-text-o', { placeholder: true, classes: file }),
      form.hint('keyFile', file),
      form.text('clientId', 'user', { placeholder: true }),
      form.hint('clientId'),
      ...requestRows(form),
      form.hint('resource'),
      slowLinkRows(form),
      form.button('node-config-mimoe-test', 'plug', 'test.button'),
    ];
  },
};

const FLEET = 'mimoe-fleet';

/** Whether discovery is on: the dialog's box while it is open, else the node's setting. */
function discovering(node: EditorNode): boolean {
  const box = $('#node-config-input-discover');
  return box.length ? box.prop('checked') : node.discover === true;
}

export const fleet: NodeEditor = {
  defaults: () => ({
    name: { value: '' },
    members: { value: [], validate: members },
    discover: {
      value: false,
      // A fleet needs members: listed ones, or discovery.
      validate(_value, _options) {
        const listed = $('#node-config-input-mimoe-members').length ? readMemberList() : this.members;
        return discovering(this) || (Array.isArray(listed) && listed.length > 0) || t(FLEET, 'validation.nothing');
      },
    },
    seedUrl: {
      value: '',
      validate(value, _options) {
        return !discovering(this) || urlProblem(value) === undefined || t(FLEET, 'validation.seedUrl');
      },
    },
    includeSeed: { value: FLEET_DEFAULTS.includeSeed },
    filter: {
      value: '',
      validate: (value, _options) => {
        const reason = names(value);
        return reason === true || t(FLEET, 'validation.filter', { reason });
      },
    },
    // Blank is 0 (a new config node gets no falsy default values).
    interval: { value: FLEET_DEFAULTS.interval, validate: number(FLEET, 'interval', { min: 0, allowBlank: true }) },
    localKeyFile: { value: false },
    keyFile: { value: '' },
    ...connectionDefaults(FLEET),
  }),
  behaviour: configBehaviour(FLEET, 'seedUrl', {
    oneditprepare() {
      const form = $('#node-config-input-seedUrl').closest('form');
      // Set once the connection rows are prepared: they read the member list.
      let updateHttps = () => undefined as void;
      memberList(this.members, () => updateHttps());
      toggleRows('#node-config-input-discover', form.find('.mimoe-fleet-discovery'));
      toggleRows('#node-config-input-localKeyFile', form.find('.mimoe-fleet-key-file'));
      // The TLS settings show while a member, or the seed when discovery is on, may be https.
      updateHttps = prepareConnectionRows(this, form, () => {
        const urls = readMemberList().map((member) => member.url);
        return discovering(this) ? [...urls, $('#node-config-input-seedUrl').val() ?? ''] : urls;
      });
      $('#node-config-input-seedUrl').on('change keyup input', updateHttps);
      $('#node-config-input-discover').on('change', updateHttps);
      spinners({ interval: 0 }, 'node-config-input');
      fleetMembers(this.id, readMemberList, {
        tooltip: t(FLEET, 'show.tooltip'),
        working: t(FLEET, 'show.working'),
        ok: (answer) => {
          const found = Array.isArray(answer.members) ? (answer.members as Array<{ name: string }>).map((m) => m.name) : [];
          return found.length ? t(FLEET, 'show.count', { count: found.length, names: found.join(', ') }) : t(FLEET, 'show.none');
        },
        failed: (reason) => reason,
      });
    },
    oneditsave() {
      this.members = readMemberList();
    },
  }),
  template() {
    const form = new Form(FLEET, 'node-config-input');
    const discovery = 'mimoe-fleet-discovery';
    const keyFile = 'mimoe-fleet-key-file';
    return [
      form.name(),
      form.list('members', 'server', 'hint.members'),
      form.checkbox('discover'),
      form.text('seedUrl', 'globe', { placeholder: true, classes: discovery }),
      form.hint('seed', discovery),
      form.text('insightToken', 'lock', { placeholder: true, password: true, classes: discovery }),
      form.checkbox('includeSeed', discovery),
      form.text('filter', 'filter', { placeholder: true, classes: discovery }),
      form.hint('filter', discovery),
      form.number('interval', 'refresh', 'seconds', discovery),
      form.hint('interval', discovery),
      form.text('tls', 'lock', { classes: 'mimoe-https-only' }),
      form.hint('tls', 'mimoe-https-only'),
      ...selfSignedAndProxyRows(form),
      form.button('node-config-mimoe-show', 'list', 'show.button'),
      form.text('token', 'key', { placeholder: true, password: true }),
      form.hint('token'),
      form.text('keys', 'key', { placeholder: true, password: true }),
      form.hint('keys'),
      form.checkbox('localKeyFile'),
      form.text('keyFile', 'file-text-o', { placeholder: true, classes: keyFile }),
      form.hint('keyFile', keyFile),
      form.text('clientId', 'user', { placeholder: true }),
      ...requestRows(form),
      slowLinkRows(form),
    ];
  },
};
