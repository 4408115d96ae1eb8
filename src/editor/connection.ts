/**
 * What the two config dialogs (mimoe-config and mimoe-fleet) share: the connection rows, the TLS
 * rows shown while a URL may be https, the folded Slow links part, and the buttons that post the
 * dialog's current values to an admin route.
 */
import { CONNECTION_DEFAULTS } from '../mcm/defaults';
import { isEnvReference } from './checks';
import { configChoice, resultLine, section, spinners } from './dialog';
import { asAnswer, post, requestFailure } from './requests';
import { EDITOR_SETTINGS } from '../nodes/shared/editor-contract';
import { Form } from './rows';

const PREFIX = '#node-config-input-';
/** The settings of the Slow links part. */
const SLOW_LINKS = ['answerTimeout', 'lowSpeedBytes', 'lowSpeedWindow'] as const;

/** Accept self-signed certificates and its warning (shown with the TLS rows), then the proxy. */
export function selfSignedAndProxyRows(form: Form): string[] {
  return [
    form.checkbox('insecure', 'mimoe-https-only'),
    `<div class="mimoe-hint mimoe-https-only mimoe-insecure-warning"><span class="mimoe-warning"><i class="fa fa-exclamation-triangle"></i> <span data-i18n="${form.type}.hint.insecure"></span></span></div>`,
    form.text('proxy', 'exchange'),
    form.hint('proxy'),
  ];
}

/** What the runtime calls its mims: mimOE `mims`, older edgeEngine runtimes `containers`. */
export const MIMS_RESOURCES = ['mims', 'containers'] as const;

/** The timeout, the requests at once and the resource name of every request. */
export function requestRows(form: Form): string[] {
  return [
    form.number('timeout', 'clock-o', 'seconds'),
    form.hint('timeout'),
    form.number('concurrency', 'tasks', 'requests'),
    form.hint('concurrency'),
    form.select('resource', 'cubes', MIMS_RESOURCES),
  ];
}

/** The folded Slow links part (prepareConnectionRows wires it). */
export function slowLinkRows(form: Form): string {
  return form.fold(
    'node-config-mimoe-slow-links',
    'slowLinks',
    [
      form.number('answerTimeout', 'hourglass-half', 'afterUpload'),
      form.hint('answerTimeout'),
      form.pair('lowSpeedBytes', 'lowSpeedWindow', 'tachometer', ['70px', '60px'], ['bytesIn', 'seconds']),
      form.hint('lowSpeed'),
    ],
    'mimoe-slow-links',
  );
}

/** An https URL, or a `${NAME}` that may hold one. */
const mayBeHttps = (url: string) => /^https:\/\//i.test(url.trim()) || isEnvReference(url);

/**
 * For the oneditprepare of a config dialog: a setting a flow saved before it existed lacks shows
 * its default; spinners on the numbers; the Slow links part folded unless one of its settings
 * differs from the default; the TLS rows (.mimoe-https-only) shown while one of `urls()` may be
 * https, and the self-signed warning while that box is checked too. Returns the update of the
 * TLS rows, for the dialog to call when a URL changes.
 */
export function prepareConnectionRows(node: EditorNode, form: JQuery, urls: () => string[]): () => void {
  // The registered defaults: CONNECTION_DEFAULTS, or what Node-RED's settings (nodeDefaults) put there.
  const defaults = RED.nodes.getType(node.type).defaults;
  const shown = (key: string) => defaults[key]?.value;
  for (const key of Object.keys(CONNECTION_DEFAULTS)) {
    if (node[key] === undefined || node[key] === null) $(PREFIX + key).val(shown(key));
  }
  spinners({ timeout: 1, concurrency: 1, answerTimeout: 1, lowSpeedWindow: 1 }, 'node-config-input');
  const changed = SLOW_LINKS.some((key) => String($(PREFIX + key).val()) !== String(shown(key)));
  section('#node-config-mimoe-slow-links', form.find('.mimoe-slow-links'), changed);
  const update = () => {
    const https = urls().some(mayBeHttps);
    form.find('.mimoe-https-only').toggle(https);
    form.find('.mimoe-insecure-warning').toggle(https && $(`${PREFIX}insecure`).prop('checked'));
  };
  $(`${PREFIX}insecure`).on('change', update);
  update();
  return update;
}

/** A setting as the open config dialog has it (saved or not). */
function dialogValue(key: string): unknown {
  if (key === 'tls' || key === 'proxy') return configChoice(key);
  const $input = $(PREFIX + key);
  return $input.attr('type') === 'checkbox' ? $input.prop('checked') : ($input.val() ?? '').trim();
}

/** The dialog's values of `keys`. */
function dialogValues(keys: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const key of keys) values[key] = dialogValue(key);
  return values;
}

/**
 * Wires a button that posts the dialog's current values to an admin route and shows the answer
 * beside it.
 */
function requestButton(button: string, texts: ButtonTexts, request: () => [string, object]): void {
  const $button = $(button);
  const show = resultLine(`${button}-result`);
  RED.popover.tooltip($button, texts.tooltip);
  $button.on('click', (evt) => {
    evt.preventDefault();
    $button.prop('disabled', true);
    show('busy', texts.working);
    const [path, body] = request();
    post(path, body)
      .done((raw) => {
        const answer = asAnswer(raw);
        if (answer.ok) show('ok', texts.ok(answer));
        else show('error', answer.message || texts.failed(''));
      })
      .fail((xhr) => show('error', texts.failed(requestFailure(xhr))))
      .always(() => {
        $button.prop('disabled', false);
      });
  });
}

export interface ButtonTexts {
  tooltip: string;
  working: string;
  ok(answer: Record<string, unknown>): string;
  /** The text of a failure, with the reason the Node-RED runtime gave (blank when the MCM answered). */
  failed(reason: string): string;
}

/**
 * Test connection of the mimoe-config dialog: it posts the dialog's CURRENT values (saved or not).
 * The runtime uses the stored key only with the deployed URL, TLS and proxy, and reads ${VAR} only
 * as deployed; otherwise its answer asks for the key to be typed, or for a deploy first.
 */
export function connectionTest(id: string, texts: ButtonTexts): void {
  requestButton('#node-config-mimoe-test', texts, () => [
    'mimoe/check',
    { id, settings: dialogValues(EDITOR_SETTINGS), token: $(`${PREFIX}token`).val() ?? '' },
  ]);
}

/** The settings the fleet route takes besides its member list. */
const FLEET_SETTINGS = ['discover', 'seedUrl', 'includeSeed', 'filter', 'timeout', 'tls', 'insecure', 'proxy'];

/** Show members of the mimoe-fleet dialog: the members the dialog's current values give. */
export function fleetMembers(id: string, members: () => unknown[], texts: ButtonTexts): void {
  requestButton('#node-config-mimoe-show', texts, () => [
    'mimoe/fleet/members',
    { id, settings: { ...dialogValues(FLEET_SETTINGS), members: members() }, insightToken: $(`${PREFIX}insightToken`).val() ?? '' },
  ]);
}
