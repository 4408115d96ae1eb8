/**
 * Editable lists whose rows are two text fields: the env list of mimoe-deploy and mimoe-rollout
 * ({key, value}) and the member list of mimoe-fleet ({name, url}).
 */
import { attachAutocomplete } from './autocomplete';
import { urlProblem } from './checks';
import { t } from './texts';

interface PairListOptions {
  /** The `<ol>` of the list. */
  container: string;
  /** The two properties of an entry; each field's class is `mimoe-<kind>-<property>`. */
  kind: 'env' | 'member';
  fields: readonly [string, string];
  placeholders: [string, string];
  addButton: string;
  entries: unknown;
  minHeight: string;
  /** Marks the row's invalid fields. */
  check(first: JQuery, second: JQuery): void;
  /** Called when a row goes or its second field changes. */
  onChange?(): void;
  /** Text between the two fields. */
  separator?: string;
  /** After the row is built: suggestions for the first field. */
  decorate?(first: JQuery): void;
}

function pairList(o: PairListOptions): void {
  const changed = o.onChange ?? (() => undefined);
  const field = (i: 0 | 1, data: Record<string, unknown>) =>
    $(`<input type="text" class="mimoe-${o.kind}-${o.fields[i]}">`)
      .attr('placeholder', o.placeholders[i])
      .val(data[o.fields[i]] === undefined ? '' : String(data[o.fields[i]]));
  const $list = $(o.container);
  $list.css('min-height', o.minHeight).css('min-width', '450px');
  $list.editableList<Record<string, unknown>>({
    addButton: o.addButton,
    height: 'auto',
    sortable: true,
    removable: true,
    removeItem: () => changed(),
    addItem: (row, _index, data) => {
      row.addClass('mimoe-env-row');
      const first = field(0, data).appendTo(row);
      if (o.separator) $('<span class="mimoe-env-eq">').text(o.separator).appendTo(row);
      const second = field(1, data).appendTo(row);
      const check = () => o.check(first, second);
      first.on('change keyup', check);
      second.on('change keyup', check);
      second.on('change keyup input', () => changed());
      check();
      o.decorate?.(first);
    },
  });
  for (const entry of Array.isArray(o.entries) ? (o.entries as unknown[]) : []) {
    if (entry && typeof entry === 'object') {
      const source = entry as Record<string, unknown>;
      $list.editableList('addItem', { [o.fields[0]]: source[o.fields[0]], [o.fields[1]]: source[o.fields[1]] });
    }
  }
}

/** The rows of a pair list as entries; `keep` leaves out empty rows. */
function readPairs(o: Pick<PairListOptions, 'container' | 'kind' | 'fields'>, keep: (first: string, second: string) => boolean) {
  const entries: Array<Record<string, string>> = [];
  $(o.container)
    .editableList('items')
    .each(function () {
      const row = $(this);
      const first = (row.find(`.mimoe-${o.kind}-${o.fields[0]}`).val() ?? '').trim();
      const second = row.find(`.mimoe-${o.kind}-${o.fields[1]}`).val() ?? '';
      if (keep(first, second)) entries.push({ [o.fields[0]]: first, [o.fields[1]]: o.kind === 'member' ? second.trim() : second });
    });
  return entries;
}

// ------------------------------------------------------------------------------------------------
// The env list

/** The env keys the mimOE runtime reads itself; their descriptions are in the catalogs (env.keys.*). */
const RUNTIME_ENV_KEYS = [
  'BASE_API_PATH',
  'API_ALIAS',
  'WEBSOCKET_SUPPORT',
  'MAX_EXECUTION_TIME_SEC',
  'OTEL_SUPPORT',
  'DB_ENCRYPTION_SUPPORT',
];
const ENV_LIST = { container: '#node-input-mimoe-env', kind: 'env', fields: ['key', 'value'] } as const;

/**
 * The env editor of a dialog (`#node-input-mimoe-env`) with `entries` ([{key, value}]); texts from
 * the catalog of `type`. The key field suggests the keys the mimOE runtime reads itself, with a
 * one-line description.
 */
export function envList(type: string, entries: unknown): void {
  const suggestions = RUNTIME_ENV_KEYS.map((name) => ({ value: `MCM.${name}`, label: `MCM.${name}`, detail: t(type, `env.keys.${name}`) }));
  pairList({
    ...ENV_LIST,
    placeholders: [t(type, 'env.key'), t(type, 'env.value')],
    addButton: t(type, 'env.add'),
    entries,
    minHeight: '60px',
    separator: '=',
    check: (key) => key.toggleClass('mimoe-invalid', /\s/.test((key.val() ?? '').trim())),
    decorate: (key) => attachAutocomplete(key, (done) => done(suggestions)),
  });
}

/** The env list of the open dialog as [{key, value}], rows without a key left out. */
export const readEnvList = (): Array<Record<string, string>> => readPairs(ENV_LIST, (key) => key !== '');

// ------------------------------------------------------------------------------------------------
// The member list

const MEMBER_LIST = { container: '#node-config-input-mimoe-members', kind: 'member', fields: ['name', 'url'] } as const;

/** The member list of the fleet dialog ({name, url} rows); `onChange`: a URL changed or a row went. */
export function memberList(entries: unknown, onChange: () => void): void {
  pairList({
    ...MEMBER_LIST,
    placeholders: [t('mimoe-fleet', 'label.memberName'), t('mimoe-fleet', 'label.memberUrl')],
    addButton: t('mimoe-fleet', 'label.addMember'),
    entries,
    minHeight: '80px',
    onChange,
    check: (name, url) => {
      const hasUrl = (url.val() ?? '').trim() !== '';
      name.toggleClass('mimoe-invalid', (name.val() ?? '').trim() === '' && hasUrl);
      url.toggleClass('mimoe-invalid', hasUrl && urlProblem(url.val()) !== undefined);
    },
  });
}

/** The member list of the open dialog as [{name, url}], empty rows left out. */
export const readMemberList = (): Array<Record<string, string>> => readPairs(MEMBER_LIST, (name, url) => name !== '' || url.trim() !== '');
