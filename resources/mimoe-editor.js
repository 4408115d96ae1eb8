/*
 * Shared editor code of the mimOE nodes (@mimoe-flows/node-red-mimoe).
 *
 * Every node's .html loads this file; Node-RED serves a module's top-level `resources/` folder
 * at `resources/<module-name>/`. It defines `window.MimoeEditor` once, however many node files
 * load it. Texts come from the catalogs: `t(type, key)` reads `<type>.<key>` from the catalog of
 * the node file `<type>`; texts shared by several nodes live in the mimoe-config catalog.
 */
(function (RED, $) {
    'use strict';
    if (window.MimoeEditor) {
        return;
    }

    var MODULE = '@mimoe-flows/node-red-mimoe';
    /** Node-RED shows this in a password field when a value is stored; the runtime falls back to the saved one. */
    var PASSWORD_PLACEHOLDER = '__PWRD__';
    /** The config node's settings the admin endpoints read (the token travels apart). */
    var CONFIG_SETTINGS = [
        'url', 'clientId', 'timeout', 'concurrency', 'resource', 'tokenSource', 'keyFile', 'tls', 'insecure',
        'proxy', 'answerTimeout', 'lowSpeedBytes', 'lowSpeedWindow'
    ];
    /** The env keys the mimOE runtime reads itself; their descriptions are in the mimoe-deploy catalog (env.keys.*). */
    var RUNTIME_ENV_KEYS = ['BASE_API_PATH', 'API_ALIAS', 'WEBSOCKET_SUPPORT', 'MAX_EXECUTION_TIME_SEC', 'OTEL_SUPPORT', 'DB_ENCRYPTION_SUPPORT'];
    /** A value starting with `${NAME}`: the runtime puts the environment variable NAME there. */
    var ENV_REFERENCE = /^\$\{\w+\}/;
    /** How long a list fetched for autocomplete is reused (ms). */
    var CACHE_MS = 10000;

    // ---------------------------------------------------------------------------------------------
    // Texts

    /** `<type>.<key>` from the catalog of the node file `<type>`. */
    function t(type, key, params) {
        return RED._(MODULE + '/' + type + ':' + type + '.' + key, params);
    }

    /** Texts several nodes share: they live in the mimoe-config catalog. */
    function shared(key, params) {
        return t('mimoe-config', key, params);
    }

    // ---------------------------------------------------------------------------------------------
    // Styling: Node-RED's theme variables only, so light and dark themes both work.

    function addStyles() {
        if (document.getElementById('mimoe-editor-styles')) {
            return;
        }
        var css = [
            '.mimoe-hint { margin: -6px 0 12px 104px; font-size: 0.85em; line-height: 1.4em; color: var(--red-ui-secondary-text-color); }',
            '.mimoe-hint.mimoe-error { color: var(--red-ui-text-color-error); }',
            '.mimoe-hint i.spinner { width: 11px; height: 11px; margin-right: 4px; }',
            '.mimoe-inline-hint { font-size: 0.85em; color: var(--red-ui-secondary-text-color); margin-left: 6px; }',
            '.mimoe-inline-hint + input, .mimoe-inline-hint + .ui-spinner { margin-left: 6px; }',
            '.mimoe-warning { font-size: 0.85em; color: var(--red-ui-primary-text-color); margin-left: 6px; }',
            '.mimoe-warning i.fa { color: var(--red-ui-text-color-warning); }',
            '.mimoe-test-result { margin-left: 8px; }',
            '.mimoe-test-result.mimoe-ok { color: var(--red-ui-text-color-success); }',
            '.mimoe-test-result.mimoe-error { color: var(--red-ui-text-color-error); }',
            '.mimoe-test-result.mimoe-busy { color: var(--red-ui-secondary-text-color); }',
            '.mimoe-test-result i.spinner { margin-right: 4px; }',
            '.form-row.mimoe-checkbox-row input[type="checkbox"] { display: inline-block; width: auto; vertical-align: top; margin: 3px 6px 0 0; }',
            '.form-row.mimoe-checkbox-row label.mimoe-checkbox-label { width: auto; }',
            '.form-row .mimoe-env-row { display: flex; align-items: center; gap: 6px; }',
            '.form-row .mimoe-env-row input[type="text"] { flex: 1 1 0; width: auto; min-width: 0; margin: 0; }',
            '.form-row .mimoe-env-row .mimoe-env-eq { color: var(--red-ui-secondary-text-color); }',
            '.form-row .mimoe-env-row input.mimoe-invalid { border-color: var(--red-ui-form-input-border-error-color); }',
            '.form-row.mimoe-list-row > label { width: auto; }',
            '.ui-autocomplete.mimoe-autocomplete { z-index: 2000; max-height: 240px; overflow-y: auto; overflow-x: hidden;',
            '  background: var(--red-ui-form-background); color: var(--red-ui-form-text-color);',
            '  border: 1px solid var(--red-ui-form-input-border-color); box-shadow: 1px 1px 4px var(--red-ui-shadow); }',
            '.mimoe-autocomplete .mimoe-ac-value { font-family: var(--red-ui-monospace-font); }',
            '.mimoe-autocomplete .mimoe-ac-detail { display: block; font-size: 0.85em; color: var(--red-ui-secondary-text-color); white-space: normal; }',
            '.mimoe-autocomplete .ui-state-active .mimoe-ac-detail { color: inherit; }'
        ].join('\n');
        $('<style>', { id: 'mimoe-editor-styles', type: 'text/css' }).text(css).appendTo('head');
    }

    // ---------------------------------------------------------------------------------------------
    // Requests to the runtime's admin endpoints (registered by the mimoe-config node).

    function configSettings(source) {
        var settings = {};
        CONFIG_SETTINGS.forEach(function (key) {
            settings[key] = source[key];
        });
        return settings;
    }

    /**
     * The body `{id, settings, token}` for a config node chosen in another node's dialog. A config
     * node edited in this session but not deployed carries its values (and a newly typed token in
     * `credentials.token`) on the editor's node object; otherwise the runtime uses the saved token.
     */
    function requestBody(serverId) {
        var node = serverId ? RED.nodes.node(serverId) : null;
        if (!node || node.type !== 'mimoe-config') {
            return null;
        }
        var credentials = node.credentials || {};
        var token = typeof credentials.token === 'string' && credentials.token !== '' ? credentials.token : PASSWORD_PLACEHOLDER;
        return { id: node.id, settings: configSettings(node), token: token };
    }

    function post(path, body) {
        return $.ajax({
            url: path,
            type: 'POST',
            contentType: 'application/json',
            data: JSON.stringify(body),
            dataType: 'json',
            timeout: 30000
        });
    }

    /** A sentence for a request to the Node-RED runtime that failed before the MCM answered. */
    function requestFailure(xhr) {
        var status = xhr ? xhr.status : 0;
        if (status === 401 || status === 403) {
            return shared('request.forbidden');
        }
        if (status === 404) {
            return shared('request.notFound');
        }
        if (!status) {
            return shared('request.unreachable');
        }
        return shared('request.failed', { status: status, text: (xhr && xhr.statusText) || '' });
    }

    // ---------------------------------------------------------------------------------------------
    // Small dialog helpers

    function isBlank(value) {
        return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
    }

    /** The visible text input of a TypedInput (the original element is hidden). */
    function typedVisibleInput($el) {
        var instance = null;
        try {
            instance = $el.typedInput('instance');
        } catch (err) {
            instance = null;
        }
        if (instance && instance.input) {
            return instance.input;
        }
        if ($el.hasClass('red-ui-typedInput')) {
            return $el.next().find('input.red-ui-typedInput-input').first();
        }
        return $el;
    }

    function typedType($el) {
        try {
            return $el.typedInput('type');
        } catch (err) {
            return 'str';
        }
    }

    /** Shows `rows` while the checkbox is checked. */
    function toggleRows(checkbox, rows) {
        var $box = $(checkbox);
        var update = function () {
            $(rows).toggle($box.prop('checked'));
        };
        $box.on('change', update);
        update();
    }

    /** A folding part of a dialog: the link `toggle` shows or hides `rows`; shown at first when `open`. */
    function section(toggle, rows, open) {
        var $toggle = $(toggle);
        var $rows = $(rows);
        var shown = false;
        var show = function (visible) {
            shown = visible;
            $rows.toggle(visible);
            $toggle.attr('aria-expanded', visible ? 'true' : 'false');
            $toggle.find('i.fa').first().toggleClass('fa-caret-right', !visible).toggleClass('fa-caret-down', visible);
        };
        $toggle.on('click', function (evt) {
            evt.preventDefault();
            show(!shown);
        });
        show(!!open);
    }

    // ---------------------------------------------------------------------------------------------
    // Connection settings shared by the mimoe-config and mimoe-fleet dialogs

    /**
     * Template rows both dialogs have, written once. A template marks where a set of them goes with
     * `<div data-mimoe-rows="NAME"></div>` (addSharedRows). `{type}` stands for the dialog's node
     * type: each text comes from the dialog's own catalog, like the rest of its template.
     */
    var SHARED_ROWS = {
        // Accept self-signed certificates and its warning (shown with the TLS row while a URL may
        // be https: httpsRows), then the proxy.
        'self-signed-and-proxy': [
            '<div class="form-row mimoe-checkbox-row mimoe-https-only">',
            '    <label>&nbsp;</label>',
            '    <input type="checkbox" id="node-config-input-insecure">',
            '    <label for="node-config-input-insecure" class="mimoe-checkbox-label" data-i18n="{type}.label.insecure"></label>',
            '</div>',
            '<div class="mimoe-hint mimoe-https-only mimoe-insecure-warning">',
            '    <span class="mimoe-warning"><i class="fa fa-exclamation-triangle"></i> <span data-i18n="{type}.hint.insecure"></span></span>',
            '</div>',
            '<div class="form-row">',
            '    <label for="node-config-input-proxy"><i class="fa fa-exchange"></i> <span data-i18n="{type}.label.proxy"></span></label>',
            '    <input type="text" id="node-config-input-proxy">',
            '</div>',
            '<div class="mimoe-hint" data-i18n="{type}.hint.proxy"></div>'
        ],
        // The timeout, the requests at once and the resource name of every request.
        'requests': [
            '<div class="form-row">',
            '    <label for="node-config-input-timeout"><i class="fa fa-clock-o"></i> <span data-i18n="{type}.label.timeout"></span></label>',
            '    <input type="text" id="node-config-input-timeout" style="width: 80px">',
            '    <span class="mimoe-inline-hint" data-i18n="{type}.label.seconds"></span>',
            '</div>',
            '<div class="mimoe-hint" data-i18n="{type}.hint.timeout"></div>',
            '<div class="form-row">',
            '    <label for="node-config-input-concurrency"><i class="fa fa-tasks"></i> <span data-i18n="{type}.label.concurrency"></span></label>',
            '    <input type="text" id="node-config-input-concurrency" style="width: 80px">',
            '    <span class="mimoe-inline-hint" data-i18n="{type}.label.requests"></span>',
            '</div>',
            '<div class="mimoe-hint" data-i18n="{type}.hint.concurrency"></div>',
            '<div class="form-row">',
            '    <label for="node-config-input-resource"><i class="fa fa-cubes"></i> <span data-i18n="{type}.label.resource"></span></label>',
            '    <select id="node-config-input-resource">',
            '        <option value="mims" data-i18n="{type}.resource.mims"></option>',
            '        <option value="containers" data-i18n="{type}.resource.containers"></option>',
            '    </select>',
            '</div>'
        ],
        // The folded Slow links part: slowLinks.
        'slow-links': [
            '<div class="form-row">',
            '    <label>&nbsp;</label>',
            '    <a href="#" id="node-config-mimoe-slow-links" role="button"><i class="fa fa-caret-right"></i> <span data-i18n="{type}.label.slowLinks"></span></a>',
            '</div>',
            '<div class="mimoe-slow-links">',
            '    <div class="form-row">',
            '        <label for="node-config-input-answerTimeout"><i class="fa fa-hourglass-half"></i> <span data-i18n="{type}.label.answerTimeout"></span></label>',
            '        <input type="text" id="node-config-input-answerTimeout" style="width: 80px">',
            '        <span class="mimoe-inline-hint" data-i18n="{type}.label.afterUpload"></span>',
            '    </div>',
            '    <div class="mimoe-hint" data-i18n="{type}.hint.answerTimeout"></div>',
            '    <div class="form-row">',
            '        <label for="node-config-input-lowSpeedBytes"><i class="fa fa-tachometer"></i> <span data-i18n="{type}.label.lowSpeedBytes"></span></label>',
            '        <input type="text" id="node-config-input-lowSpeedBytes" style="width: 70px">',
            '        <span class="mimoe-inline-hint" data-i18n="{type}.label.bytesIn"></span>',
            '        <input type="text" id="node-config-input-lowSpeedWindow" style="width: 60px" data-i18n="[aria-label]{type}.label.lowSpeedWindow">',
            '        <span class="mimoe-inline-hint" data-i18n="{type}.label.seconds"></span>',
            '    </div>',
            '    <div class="mimoe-hint" data-i18n="{type}.hint.lowSpeed"></div>',
            '</div>'
        ]
    };

    /**
     * Puts the SHARED_ROWS into the template of `type` where it marks them; its .html calls this
     * right after registering the type. They go into the template, not into the open dialog,
     * because Node-RED fills in the inputs (and makes the TLS and proxy inputs config node
     * selects) before oneditprepare runs; it applies data-i18n to them as to the rest.
     */
    function addSharedRows(type) {
        var $template = $('script[data-template-name="' + type + '"]');
        $template.text($template.text().replace(/<div data-mimoe-rows="([\w-]+)"><\/div>/g, function (marker, name) {
            return SHARED_ROWS[name].join('\n').replace(/\{type\}/g, type);
        }));
    }

    /** The value of a config node select (`#node-config-input-<field>`); `_ADD_` is its "add new" entry, not a node. */
    function configChoice(field) {
        var id = $('#node-config-input-' + field).val();
        return id && id !== '_ADD_' ? id : '';
    }

    /** An https URL, or a `${NAME}` that may hold one. */
    function mayBeHttps(url) {
        var value = String(url || '').trim();
        return /^https:\/\//i.test(value) || ENV_REFERENCE.test(value);
    }

    /**
     * Shows the TLS rows of a dialog (.mimoe-https-only) while one of `urls()` may be https, and the
     * accept-self-signed warning (.mimoe-insecure-warning) while that box is checked too. Returns
     * the update, for the dialog to call when a URL changes.
     */
    function httpsRows(form, urls) {
        var update = function () {
            var https = urls().some(mayBeHttps);
            form.find('.mimoe-https-only').toggle(https);
            form.find('.mimoe-insecure-warning').toggle(https && $('#node-config-input-insecure').prop('checked'));
        };
        $('#node-config-input-insecure').on('change', update);
        update();
        return update;
    }

    /** The Slow links part of a config dialog: folded unless one of its settings differs from the default. */
    function slowLinks(node, form) {
        var defaults = RED.nodes.getType(node.type).defaults;
        var keys = ['answerTimeout', 'lowSpeedBytes', 'lowSpeedWindow'];
        // A node saved before these settings existed lacks them: show the defaults the runtime uses.
        keys.forEach(function (key) {
            if (node[key] === undefined || node[key] === null) {
                $('#node-config-input-' + key).val(defaults[key].value);
            }
        });
        var changed = keys.some(function (key) {
            return String($('#node-config-input-' + key).val()) !== String(defaults[key].value);
        });
        $('#node-config-input-answerTimeout').spinner({ min: 1 });
        $('#node-config-input-lowSpeedWindow').spinner({ min: 1 });
        section('#node-config-mimoe-slow-links', form.find('.mimoe-slow-links'), changed);
    }

    /**
     * For the oneditprepare of a dialog with the SHARED_ROWS: the TLS rows shown while one of
     * `urls()` may be https, spinners on the numbers, the Slow links part. Returns the update of
     * the TLS rows, for the dialog to call when a URL changes.
     */
    function prepareSharedRows(node, form, urls) {
        $('#node-config-input-timeout').spinner({ min: 1 });
        $('#node-config-input-concurrency').spinner({ min: 1 });
        slowLinks(node, form);
        return httpsRows(form, urls);
    }

    /** Keeps the text of `target` on the explanation `<type>.<prefix>.<selected value>` of a select. */
    function optionHelp(select, target, type, prefix) {
        var $select = $(select);
        var update = function () {
            var value = $select.val();
            $(target).text(value ? t(type, prefix + '.' + value) : '');
        };
        $select.on('change', update);
        update();
    }

    /**
     * The value for a hidden `#node-input-outputs` when the number of outputs goes from `current` to
     * `wanted`: an output map, so Node-RED drops the wires of a removed port instead of leaving them.
     */
    function outputsMap(current, wanted) {
        var map = {};
        var i;
        current = Math.max(1, parseInt(current, 10) || 1);
        for (i = 0; i < current; i++) {
            map[String(i)] = i < wanted ? String(i) : '-1';
        }
        for (i = current; i < wanted; i++) {
            map['new' + i] = String(i);
        }
        return JSON.stringify(map);
    }

    /**
     * For a node's `onadd`: a new node whose Server is blank takes the mimOE server config when
     * exactly one can be chosen (global, or on the node's own flow; not disabled), so a node
     * dropped into a flow that has one server is ready without opening its dialog. `field` and
     * `type` name another config field and its type (default `server`, `mimoe-config`).
     */
    function defaultServer(node, field, type) {
        field = field || 'server';
        type = type || 'mimoe-config';
        if (node[field]) {
            return;
        }
        var candidates = [];
        RED.nodes.eachConfig(function (config) {
            if (config.type === type && !config.d && (!config.z || config.z === node.z)) {
                candidates.push(config.id);
            }
        });
        if (candidates.length === 1) {
            node[field] = candidates[0];
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Autocomplete (jQuery UI, which Node-RED ships and themes with its variables)

    function renderItem(ul, item) {
        var li = $('<li>');
        var wrapper = $('<div>').appendTo(li);
        $('<span class="mimoe-ac-value">').text(item.label).appendTo(wrapper);
        if (item.detail) {
            $('<span class="mimoe-ac-detail">').text(item.detail).appendTo(wrapper);
        }
        return li.appendTo(ul);
    }

    function filterItems(items, term) {
        var needle = String(term || '').toLowerCase();
        return items.filter(function (item) {
            return !needle ||
                String(item.value).toLowerCase().indexOf(needle) !== -1 ||
                String(item.label).toLowerCase().indexOf(needle) !== -1;
        });
    }

    /**
     * Attaches a jQuery UI autocomplete to an input. `load(done)` hands over the items
     * `[{value, label, detail}]`; `enabled()` (optional) says whether suggestions make sense now.
     * The list opens on focus (or a click into the focused field) and narrows as the user types.
     */
    function attachAutocomplete($input, load, enabled) {
        var tray = $input.closest('.red-ui-tray');
        var open = false;
        // A list just closed (by a choice, Escape or a click elsewhere) does not reopen at once
        // when the input gets the focus back.
        var quietUntil = 0;
        $input.on('autocompleteopen', function () {
            open = true;
        });
        $input.on('autocompleteclose', function () {
            open = false;
            quietUntil = Date.now() + 300;
        });
        // Escape closes the list, not the edit tray: stop it here, before Node-RED's keyboard handler.
        $input.on('keydown.mimoe', function (evt) {
            if (evt.keyCode === 27 && open) {
                evt.stopPropagation();
            }
        });
        $input.autocomplete({
            minLength: 0,
            delay: 150,
            appendTo: tray.length ? tray : null,
            classes: { 'ui-autocomplete': 'mimoe-autocomplete' },
            source: function (request, response) {
                if (enabled && !enabled()) {
                    response([]);
                    return;
                }
                load(function (items) {
                    response(filterItems(items || [], request.term));
                });
            },
            focus: function () {
                // Keep what the user typed while moving through the list with the arrow keys.
                return false;
            },
            select: function (event, ui) {
                $input.val(ui.item.value).trigger('change');
                return false;
            }
        });
        $input.autocomplete('instance')._renderItem = renderItem;
        $input.on('focus.mimoe', function () {
            if (!open && Date.now() >= quietUntil && (!enabled || enabled())) {
                $input.autocomplete('search', '');
            }
        });
        // A click into the field that has the focus already (after a choice or Escape closed the
        // list) opens the list again: no focus event would come.
        var hadFocus = false;
        $input.on('mousedown.mimoe', function () {
            hadFocus = document.activeElement === $input[0];
        });
        $input.on('click.mimoe', function () {
            if (hadFocus && !open && (!enabled || enabled())) {
                $input.autocomplete('search', '');
            }
        });
    }

    /**
     * Live suggestions from the runtime for a TypedInput field, while its type is 'str'.
     *   input:  selector of the TypedInput's element, e.g. '#node-input-image'
     *   server: selector of the dialog's config select, e.g. '#node-input-server'
     *   kind:   'images' | 'mims', or a function returning one
     *   imageIds: true to offer images by id (the runtime's answer lists each by name, with its id
     *           as detail), for fields that take an image id: some runtimes delete images by id only
     * A line under the field says when suggestions cannot be listed; it never blocks the dialog.
     */
    function autocomplete(options) {
        var $el = $(options.input);
        var $input = typedVisibleInput($el);
        var $server = $(options.server);
        var message = $('<div class="mimoe-hint mimoe-ac-message">').hide().insertAfter($el.closest('.form-row'));
        var cache = {};
        var pending = null;

        function kind() {
            return typeof options.kind === 'function' ? options.kind() : options.kind;
        }
        function show(text, style) {
            message.empty().removeClass('mimoe-error');
            if (style === 'busy') {
                $('<i class="spinner">').appendTo(message);
            } else if (style === 'error') {
                message.addClass('mimoe-error');
                $('<i class="fa fa-exclamation-circle">').appendTo(message);
                message.append(' ');
            }
            $('<span>').text(text).appendTo(message);
            message.show();
        }
        function hide() {
            message.hide().empty();
        }
        function load(done) {
            var serverId = $server.val();
            var body = requestBody(serverId);
            if (!body) {
                show(shared('autocomplete.noServer'), 'info');
                done([]);
                return;
            }
            var what = kind();
            var key = serverId + '|' + what;
            var hit = cache[key];
            if (hit && Date.now() - hit.time < CACHE_MS) {
                done(hit.items);
                return;
            }
            if (pending && pending.key === key) {
                pending.waiters.push(done);
                return;
            }
            pending = { key: key, waiters: [done] };
            var mine = pending;
            show(shared('autocomplete.loading'), 'busy');
            var finish = function (items) {
                if (pending === mine) {
                    pending = null;
                }
                mine.waiters.forEach(function (waiter) {
                    waiter(items);
                });
            };
            post('mimoe/resources/' + what, body)
                .done(function (answer) {
                    if (answer && answer.ok) {
                        var byId = options.imageIds && what === 'images';
                        var items = (Array.isArray(answer.items) ? answer.items : []).map(function (item) {
                            var label = String(item.label !== undefined ? item.label : item.value);
                            var detail = item.detail ? String(item.detail) : '';
                            return byId && detail ? { value: detail, label: detail, detail: label } : { value: String(item.value), label: label, detail: detail };
                        });
                        cache[key] = { time: Date.now(), items: items };
                        if (items.length === 0) {
                            show(shared('autocomplete.empty.' + what), 'info');
                        } else {
                            hide();
                        }
                        finish(items);
                    } else {
                        show(shared('autocomplete.failed', { message: (answer && answer.message) || '' }), 'error');
                        finish([]);
                    }
                })
                .fail(function (xhr) {
                    show(shared('autocomplete.failed', { message: requestFailure(xhr) }), 'error');
                    finish([]);
                });
        }

        attachAutocomplete($input, load, function () {
            return typedType($el) === 'str';
        });
        $el.on('change.mimoe', function () {
            if (typedType($el) !== 'str') {
                $input.autocomplete('close');
                hide();
            }
        });
        $server.on('change.mimoe', function () {
            hide();
        });
        return {
            refresh: function () {
                cache = {};
                hide();
            }
        };
    }

    // ---------------------------------------------------------------------------------------------
    // The env list of mimoe-deploy: rows {key, value} in an editableList

    function envKeySuggestions() {
        return RUNTIME_ENV_KEYS.map(function (name) {
            return { value: 'MCM.' + name, label: 'MCM.' + name, detail: t('mimoe-deploy', 'env.keys.' + name) };
        });
    }

    /**
     * Builds the env editor in `container` (an `<ol>`) with `entries` ([{key, value}]). Texts come
     * from the catalog of `type` (env.add, env.key, env.value, ...). The key field suggests the keys
     * the mimOE runtime reads itself, with a one-line description.
     */
    function envList(options) {
        var type = options.type;
        var suggestions = envKeySuggestions();
        var $list = $(options.container);
        $list.css('min-height', '60px').css('min-width', '450px').editableList({
            addButton: t(type, 'env.add'),
            height: 'auto',
            sortable: true,
            removable: true,
            addItem: function (row, index, data) {
                row.addClass('mimoe-env-row');
                var key = $('<input type="text" class="mimoe-env-key">')
                    .attr('placeholder', t(type, 'env.key'))
                    .val(data.key !== undefined ? data.key : '')
                    .appendTo(row);
                $('<span class="mimoe-env-eq">').text('=').appendTo(row);
                $('<input type="text" class="mimoe-env-value">')
                    .attr('placeholder', t(type, 'env.value'))
                    .val(data.value !== undefined ? String(data.value) : '')
                    .appendTo(row);
                var check = function () {
                    key.toggleClass('mimoe-invalid', /\s/.test(key.val().trim()));
                };
                key.on('change keyup', check);
                check();
                attachAutocomplete(key, function (done) {
                    done(suggestions);
                });
            }
        });
        (Array.isArray(options.entries) ? options.entries : []).forEach(function (entry) {
            if (entry && typeof entry === 'object') {
                $list.editableList('addItem', { key: entry.key, value: entry.value });
            }
        });
        return $list;
    }

    /** The rows of an env list as [{key, value}], rows without a key left out. */
    function readEnvList(container) {
        var entries = [];
        $(container).editableList('items').each(function () {
            var row = $(this);
            var key = row.find('.mimoe-env-key').val().trim();
            if (key) {
                entries.push({ key: key, value: row.find('.mimoe-env-value').val() });
            }
        });
        return entries;
    }

    // ---------------------------------------------------------------------------------------------
    // Fleets: the member list and the Show members button of the mimoe-fleet dialog

    /** Rows {name, url} in an editableList; texts from the mimoe-fleet catalog. `onChange`: called when a URL changes or a row goes. */
    function memberList(options) {
        var $list = $(options.container);
        var changed = options.onChange || function () {};
        $list.css('min-height', '80px').css('min-width', '450px').editableList({
            addButton: t('mimoe-fleet', 'label.addMember'),
            height: 'auto',
            sortable: true,
            removable: true,
            removeItem: function () {
                changed();
            },
            addItem: function (row, index, data) {
                row.addClass('mimoe-env-row');
                var name = $('<input type="text" class="mimoe-member-name">')
                    .attr('placeholder', t('mimoe-fleet', 'label.memberName'))
                    .val(data.name !== undefined ? data.name : '')
                    .css('flex-grow', '1')
                    .appendTo(row);
                var url = $('<input type="text" class="mimoe-member-url">')
                    .attr('placeholder', t('mimoe-fleet', 'label.memberUrl'))
                    .val(data.url !== undefined ? data.url : '')
                    .css('flex-grow', '2')
                    .appendTo(row);
                var check = function () {
                    name.toggleClass('mimoe-invalid', name.val().trim() === '' && url.val().trim() !== '');
                    url.toggleClass('mimoe-invalid', url.val().trim() !== '' && checkUrl(url.val()) !== true);
                };
                name.on('change keyup', check);
                url.on('change keyup', check);
                url.on('change keyup input', function () {
                    changed();
                });
                check();
            }
        });
        (Array.isArray(options.entries) ? options.entries : []).forEach(function (entry) {
            if (entry && typeof entry === 'object') {
                $list.editableList('addItem', { name: entry.name, url: entry.url });
            }
        });
        return $list;
    }

    /** The rows of a member list as [{name, url}], empty rows left out. */
    function readMemberList(container) {
        var members = [];
        $(container).editableList('items').each(function () {
            var row = $(this);
            var name = row.find('.mimoe-member-name').val().trim();
            var url = row.find('.mimoe-member-url').val().trim();
            if (name || url) {
                members.push({ name: name, url: url });
            }
        });
        return members;
    }

    /**
     * Wires the Show members button of the fleet dialog: it posts the dialog's current values
     * (saved or not) and lists the members they give beside the button.
     */
    function fleetMembers(options) {
        var $button = $(options.button);
        var $result = $(options.result);
        var prefix = '#node-config-input-';
        function show(style, text) {
            $result.empty().removeClass('mimoe-ok mimoe-error mimoe-busy').addClass('mimoe-' + style);
            if (style === 'busy') {
                $('<i class="spinner">').appendTo($result);
            } else if (style === 'error') {
                $('<i class="fa fa-exclamation-triangle">').appendTo($result);
                $result.append(' ');
            }
            $('<span>').text(text).appendTo($result);
        }
        RED.popover.tooltip($button, t('mimoe-fleet', 'show.tooltip'));
        $button.on('click', function (evt) {
            evt.preventDefault();
            var settings = {
                members: readMemberList(options.list),
                discover: $(prefix + 'discover').prop('checked'),
                seedUrl: ($(prefix + 'seedUrl').val() || '').trim(),
                includeSeed: $(prefix + 'includeSeed').prop('checked'),
                filter: $(prefix + 'filter').val() || '',
                timeout: $(prefix + 'timeout').val(),
                tls: configChoice('tls'),
                insecure: $(prefix + 'insecure').prop('checked'),
                proxy: configChoice('proxy')
            };
            $button.prop('disabled', true);
            show('busy', t('mimoe-fleet', 'show.working'));
            post('mimoe/fleet/members', { id: options.id, settings: settings, insightToken: $(prefix + 'insightToken').val() || '' })
                .done(function (answer) {
                    if (answer && answer.ok) {
                        var names = (answer.members || []).map(function (m) {
                            return m.name;
                        });
                        show('ok', names.length ? t('mimoe-fleet', 'show.count', { count: names.length, names: names.join(', ') }) : t('mimoe-fleet', 'show.none'));
                    } else {
                        show('error', (answer && answer.message) || '');
                    }
                })
                .fail(function (xhr) {
                    show('error', requestFailure(xhr));
                })
                .always(function () {
                    $button.prop('disabled', false);
                });
        });
    }

    // ---------------------------------------------------------------------------------------------
    // Connection test of the mimoe-config dialog

    /**
     * Wires the Test connection button of the config dialog: it posts the dialog's CURRENT values
     * (saved or not) and shows the answer beside the button. The runtime uses the stored key only
     * with the deployed URL, TLS and proxy, and reads ${VAR} only as deployed; otherwise its answer
     * asks for the key to be typed, or for a deploy first.
     */
    function connectionTest(options) {
        var $button = $(options.button);
        var $result = $(options.result);
        var prefix = '#node-config-input-';
        function dialogBody() {
            var settings = {
                url: ($(prefix + 'url').val() || '').trim(),
                clientId: ($(prefix + 'clientId').val() || '').trim(),
                timeout: $(prefix + 'timeout').val(),
                concurrency: $(prefix + 'concurrency').val(),
                resource: $(prefix + 'resource').val(),
                tokenSource: $(prefix + 'tokenSource').val(),
                keyFile: ($(prefix + 'keyFile').val() || '').trim(),
                tls: configChoice('tls'),
                insecure: $(prefix + 'insecure').prop('checked'),
                proxy: configChoice('proxy'),
                answerTimeout: $(prefix + 'answerTimeout').val(),
                lowSpeedBytes: $(prefix + 'lowSpeedBytes').val(),
                lowSpeedWindow: $(prefix + 'lowSpeedWindow').val()
            };
            return { id: options.id, settings: settings, token: $(prefix + 'token').val() || '' };
        }
        function show(style, text) {
            $result.empty().removeClass('mimoe-ok mimoe-error mimoe-busy').addClass('mimoe-' + style);
            if (style === 'busy') {
                $('<i class="spinner">').appendTo($result);
            } else {
                $('<i class="fa">').addClass(style === 'ok' ? 'fa-check' : 'fa-exclamation-triangle').appendTo($result);
                $result.append(' ');
            }
            $('<span>').text(text).appendTo($result);
        }
        RED.popover.tooltip($button, shared('test.tooltip'));
        $button.on('click', function (evt) {
            evt.preventDefault();
            $button.prop('disabled', true);
            show('busy', shared('test.testing'));
            post('mimoe/check', dialogBody())
                .done(function (answer) {
                    if (answer && answer.ok) {
                        show('ok', shared('test.ok', { mims: answer.mims, count: answer.mims, url: answer.url || '' }));
                    } else {
                        show('error', (answer && answer.message) || shared('test.failed'));
                    }
                })
                .fail(function (xhr) {
                    show('error', shared('test.failed') + ': ' + requestFailure(xhr));
                })
                .always(function () {
                    $button.prop('disabled', false);
                });
        });
    }

    // ---------------------------------------------------------------------------------------------
    // Validators for `defaults` (each node wraps them in a two-argument function, so a string
    // result is shown as the reason)

    /**
     * A TypedInput field whose blank value means "take it from msg". `o`: {type, typeField,
     * defaultType, noWhitespace (catalog key), json (function(parsed) -> true | message)}.
     */
    function checkTyped(node, value, opt, o) {
        if (isBlank(value)) {
            return true;
        }
        var ptype = $('#node-input-' + o.typeField).val() || (node && node[o.typeField]) || o.defaultType || 'str';
        if (ptype === 'str') {
            if (o.noWhitespace && /\s/.test(String(value))) {
                return t(o.type, o.noWhitespace);
            }
            return true;
        }
        var result = RED.validators.typedInput({ type: ptype, allowBlank: true })(value, opt || {});
        if (result !== true) {
            return result || t(o.type, 'validation.invalid');
        }
        if (ptype === 'json' && o.json) {
            var parsed;
            try {
                parsed = JSON.parse(value);
            } catch (err) {
                return t(o.type, 'validation.invalid');
            }
            return o.json(parsed);
        }
        return true;
    }

    /**
     * A number field: `o.min` (at least) or `o.above` (more than), a whole number when `o.integer`;
     * `o.key` names the message in the catalog of `o.type`; `o.allowBlank`: blank is fine too. A
     * value the node does not have at all is fine: a flow saved before the setting existed (the
     * editor applies no defaults on import), and every node's runtime takes the default then.
     */
    function checkNumber(value, o) {
        if (value === undefined || value === null || (o.allowBlank && isBlank(value))) {
            return true;
        }
        var n = Number(value);
        if (isBlank(value) || !isFinite(n) ||
            (o.min !== undefined && n < o.min) ||
            (o.above !== undefined && n <= o.above) ||
            (o.max !== undefined && n > o.max) ||
            (o.integer && Math.floor(n) !== n)) {
            return t(o.type, o.key);
        }
        return true;
    }

    /** The env list: keys without whitespace, each key once, string values. */
    function checkEnv(value, type) {
        if (value === undefined || value === null || value === '') {
            return true;
        }
        if (!Array.isArray(value)) {
            return t(type, 'validation.env');
        }
        var seen = {};
        for (var i = 0; i < value.length; i++) {
            var entry = value[i];
            if (!entry || typeof entry.key !== 'string') {
                return t(type, 'validation.env');
            }
            var key = entry.key.trim();
            if (/\s/.test(key)) {
                return t(type, 'validation.envKeyWhitespace', { key: key });
            }
            if (seen[key]) {
                return t(type, 'validation.envKeyDuplicate', { key: key });
            }
            seen[key] = true;
        }
        return true;
    }

    /** A composition written as JSON in the node: [{name, image, env?}, ...]. */
    function checkSpecs(specs, type) {
        if (!Array.isArray(specs)) {
            return t(type, 'validation.specsArray');
        }
        if (specs.length === 0) {
            return t(type, 'validation.specsEmpty');
        }
        var names = {};
        for (var i = 0; i < specs.length; i++) {
            var spec = specs[i];
            var index = i + 1;
            if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
                return t(type, 'validation.specObject', { index: index });
            }
            if (typeof spec.name !== 'string' || spec.name.trim() === '') {
                return t(type, 'validation.specName', { index: index });
            }
            if (/\s/.test(spec.name)) {
                return t(type, 'validation.specNameWhitespace', { index: index, name: spec.name });
            }
            if (typeof spec.image !== 'string' || spec.image.trim() === '') {
                return t(type, 'validation.specImage', { index: index });
            }
            if (spec.env !== undefined) {
                if (!spec.env || typeof spec.env !== 'object' || Array.isArray(spec.env)) {
                    return t(type, 'validation.specEnv', { index: index });
                }
                for (var k in spec.env) {
                    if (Object.prototype.hasOwnProperty.call(spec.env, k) && typeof spec.env[k] !== 'string') {
                        return t(type, 'validation.specEnvValue', { index: index, key: k });
                    }
                }
            }
            if (names[spec.name]) {
                return t(type, 'validation.specDuplicate', { name: spec.name });
            }
            names[spec.name] = true;
        }
        return true;
    }

    /**
     * The config node's URL: http:// or https:// followed by a host, or starting with a `${NAME}`
     * reference to an environment variable of Node-RED (the runtime expands it, e.g.
     * `${MIMOE_URL}` or `${MIMOE_URL}/mcm/v1`).
     */
    function checkUrl(value) {
        var url = String(value || '').trim();
        return /^https?:\/\/[^\s/]+/i.test(url) || ENV_REFERENCE.test(url) ? true : t('mimoe-config', 'validation.url');
    }

    /**
     * Member names or globs, comma-separated (`*` any characters, `?` one): true, or the reason
     * they are not valid, from the mimoe-fleet catalog. The runtime applies the same rule.
     */
    function checkNames(value) {
        var text = String(value === undefined || value === null ? '' : value);
        if (text.trim() === '') {
            return true;
        }
        var parts = text.split(',');
        for (var i = 0; i < parts.length; i++) {
            if (parts[i].trim() === '') {
                return t('mimoe-fleet', 'validation.filterEmpty');
            }
            if (/[[\]{}]/.test(parts[i])) {
                return t('mimoe-fleet', 'validation.filterWildcards');
            }
        }
        return true;
    }

    /** The listed members of a fleet: each with a name (used once) and a URL. */
    function checkMembers(value) {
        if (value === undefined || value === null || value === '') {
            return true;
        }
        if (!Array.isArray(value)) {
            return t('mimoe-fleet', 'validation.members');
        }
        var seen = {};
        for (var i = 0; i < value.length; i++) {
            var member = value[i] || {};
            var name = typeof member.name === 'string' ? member.name.trim() : '';
            if (!name || seen[name] || checkUrl(member.url) !== true) {
                return t('mimoe-fleet', 'validation.members');
            }
            seen[name] = true;
        }
        return true;
    }

    addStyles();

    window.MimoeEditor = {
        version: 1,
        MODULE: MODULE,
        /** TypedInput types of fields whose value may come from msg, flow, global or env. */
        TYPES: ['str', 'msg', 'flow', 'global', 'env'],
        /** TypedInput types of the composition specs. */
        SPEC_TYPES: ['json', 'msg', 'flow', 'global'],
        RUNTIME_ENV_KEYS: RUNTIME_ENV_KEYS.slice(),
        t: t,
        shared: shared,
        configSettings: configSettings,
        requestBody: requestBody,
        post: post,
        requestFailure: requestFailure,
        typedVisibleInput: typedVisibleInput,
        toggleRows: toggleRows,
        section: section,
        addSharedRows: addSharedRows,
        prepareSharedRows: prepareSharedRows,
        optionHelp: optionHelp,
        outputsMap: outputsMap,
        autocomplete: autocomplete,
        envList: envList,
        readEnvList: readEnvList,
        connectionTest: connectionTest,
        memberList: memberList,
        readMemberList: readMemberList,
        fleetMembers: fleetMembers,
        defaultServer: defaultServer,
        isEnvReference: function (value) {
            return ENV_REFERENCE.test(String(value || '').trim());
        },
        check: {
            typed: checkTyped,
            number: checkNumber,
            env: checkEnv,
            specs: checkSpecs,
            url: checkUrl,
            names: checkNames,
            members: checkMembers
        }
    };
})(window.RED, window.jQuery);
