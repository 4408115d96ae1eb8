/** Live suggestions in text fields: jQuery UI's autocomplete, which Node-RED ships and themes. */
import { AdminAnswer, asAnswer, configQuery, post, requestFailure } from './requests';
import { typedType, typedVisibleInput } from './dialog';
import { shared } from './texts';

/** How long a list fetched from the runtime is reused (ms). */
const CACHE_MS = 10_000;

function renderItem(list: JQuery, item: Suggestion): JQuery {
  const li = $('<li>');
  const wrapper = $('<div>').appendTo(li);
  if (item.notice) {
    // Says why there is nothing to choose; jQuery UI's menu never focuses or picks a disabled item.
    li.addClass('ui-state-disabled');
    $('<span class="mimoe-ac-notice">').text(item.label).appendTo(wrapper);
    return li.appendTo(list);
  }
  $('<span class="mimoe-ac-value">').text(item.label).appendTo(wrapper);
  if (item.detail) $('<span class="mimoe-ac-detail">').text(item.detail).appendTo(wrapper);
  return li.appendTo(list);
}

/** The items that contain what was typed (a notice stays). */
function filterItems(items: Suggestion[], term: string): Suggestion[] {
  const needle = term.toLowerCase();
  return items.filter(
    (item) => item.notice || !needle || item.value.toLowerCase().includes(needle) || item.label.toLowerCase().includes(needle),
  );
}

/**
 * Attaches a jQuery UI autocomplete to an input. `load(done)` hands over the items; `enabled()`
 * says whether suggestions make sense now. The list opens on focus (or a click into the focused
 * field) and narrows as the user types.
 */
export function attachAutocomplete($input: JQuery, load: (done: (items: Suggestion[]) => void) => void, enabled = () => true): void {
  const tray = $input.closest('.red-ui-tray');
  let open = false;
  // A list just closed (by a choice, Escape or a click elsewhere) does not reopen at once when the
  // input gets the focus back.
  let quietUntil = 0;
  $input.on('autocompleteopen', () => {
    open = true;
  });
  $input.on('autocompleteclose', () => {
    open = false;
    quietUntil = Date.now() + 300;
  });
  // Escape closes the list, not the edit tray: stop it here, before Node-RED's keyboard handler.
  $input.on('keydown.mimoe', (evt) => {
    if (evt.keyCode === 27 && open) evt.stopPropagation();
  });
  $input.autocomplete({
    minLength: 0,
    delay: 150,
    appendTo: tray.length ? tray : null,
    classes: { 'ui-autocomplete': 'mimoe-autocomplete' },
    source: (request, response) => {
      if (!enabled()) {
        response([]);
        return;
      }
      load((items) => response(filterItems(items, request.term)));
    },
    // Keep what the user typed while moving through the list with the arrow keys.
    focus: () => false,
    select: (_event, ui) => {
      if (!ui.item.notice) $input.val(ui.item.value).trigger('change');
      return false;
    },
  });
  $input.autocomplete('instance')._renderItem = renderItem;
  $input.on('focus.mimoe', () => {
    if (!open && Date.now() >= quietUntil && enabled()) $input.autocomplete('search', '');
  });
  // A click into the field that has the focus already (after a choice or Escape closed the list)
  // opens the list again: no focus event would come.
  let hadFocus = false;
  $input.on('mousedown.mimoe', () => {
    hadFocus = document.activeElement === $input[0];
  });
  $input.on('click.mimoe', () => {
    if (hadFocus && !open && enabled()) $input.autocomplete('search', '');
  });
}

export interface RuntimeSuggestions {
  /** Selector of the TypedInput's element, e.g. '#node-input-image'. */
  input: string;
  /** Selector of the dialog's config select, e.g. '#node-input-server'. */
  server: string;
  /** What to list. */
  kind: () => 'images' | 'mims';
  /**
   * Offer images by id (the runtime's answer lists each by name, with its id as detail), for
   * fields that take an image id: some runtimes delete images by id only.
   */
  imageIds?: boolean;
}

interface ListedItem {
  value?: unknown;
  label?: unknown;
  detail?: unknown;
}

/**
 * Live suggestions from the runtime for a TypedInput field, while its type is 'str'. A line under
 * the field says when suggestions cannot be listed, and a failure's reason is the list's only
 * entry; neither blocks the dialog.
 */
export function runtimeSuggestions(options: RuntimeSuggestions): void {
  const $el = $(options.input);
  const $input = typedVisibleInput($el);
  const $server = $(options.server);
  const message = $('<div class="mimoe-hint mimoe-ac-message">').hide().insertAfter($el.closest('.form-row'));
  const cache = new Map<string, { time: number; items: Suggestion[] }>();
  let pending: { key: string; waiters: Array<(items: Suggestion[]) => void> } | undefined;

  function show(text: string, style: 'info' | 'busy' | 'error'): void {
    message.empty().toggleClass('mimoe-error', style === 'error');
    if (style === 'busy') $('<i class="spinner">').appendTo(message);
    if (style === 'error') $('<i class="fa fa-exclamation-circle">').appendTo(message);
    if (style !== 'info') message.append(' ');
    $('<span>').text(text).appendTo(message);
    message.show();
  }
  const hide = () => message.hide().empty();
  /** The failure as the list's one entry, and under the field. */
  function failed(reason: string): Suggestion[] {
    const text = shared('autocomplete.failed', { message: reason });
    show(text, 'error');
    return [{ value: '', label: text, notice: true }];
  }
  function items(answer: AdminAnswer, kind: string): Suggestion[] {
    const byId = options.imageIds && kind === 'images';
    return (Array.isArray(answer.items) ? (answer.items as ListedItem[]) : []).map((item) => {
      const label = String(item.label ?? item.value);
      const detail = item.detail ? String(item.detail) : '';
      return byId && detail ? { value: detail, label: detail, detail: label } : { value: String(item.value), label, detail };
    });
  }

  function load(done: (items: Suggestion[]) => void): void {
    const serverId = $server.val();
    const query = configQuery(serverId);
    if (!query) {
      show(shared('autocomplete.noServer'), 'info');
      done([]);
      return;
    }
    const kind = options.kind();
    const key = `${serverId}|${kind}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.time < CACHE_MS) {
      done(hit.items);
      return;
    }
    if (pending?.key === key) {
      pending.waiters.push(done);
      return;
    }
    const mine = { key, waiters: [done] };
    pending = mine;
    show(shared('autocomplete.loading'), 'busy');
    const finish = (list: Suggestion[]) => {
      if (pending === mine) pending = undefined;
      mine.waiters.forEach((waiter) => waiter(list));
    };
    post(`mimoe/resources/${kind}`, query)
      .done((raw) => {
        const answer = asAnswer(raw);
        if (!answer.ok) {
          finish(failed(answer.message ?? ''));
          return;
        }
        const list = items(answer, kind);
        cache.set(key, { time: Date.now(), items: list });
        if (list.length === 0) show(shared(`autocomplete.empty.${kind}`), 'info');
        else hide();
        finish(list);
      })
      .fail((xhr) => finish(failed(requestFailure(xhr))));
  }

  attachAutocomplete($input, load, () => typedType($el) === 'str');
  $el.on('change.mimoe', () => {
    if (typedType($el) !== 'str') {
      $input.autocomplete('close');
      hide();
    }
  });
  $server.on('change.mimoe', hide);
}
