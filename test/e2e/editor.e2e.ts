/**
 * The editor in a real browser: Debian's chromium, driven by playwright-core, against a real
 * Node-RED with this package and the MCM simulator. A person's path through the editor: the
 * palette, a config node made in its own dialog (Test connection), autocomplete from the live
 * runtime, wires drawn with the mouse, Deploy, the inject button, the Mim in the debug sidebar.
 * Any page error, and any console error or failed request from the package's editor code, fails
 * the test. Takes the screenshots palette.png, autocomplete.png and debug.png: into docs/ when
 * MIMOE_DOCS_SCREENSHOTS is set (`npm run docs:screenshots`), else into a temporary directory.
 *
 * Run by `npm run test:e2e` (scripts/ensure-chromium.sh installs chromium first); not part of
 * the main mocha run (not a *.test.ts file).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { McmClient } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';
import { EditorPage, catalog, text } from '../support/editor-page';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');

// What page.evaluate callbacks see in the browser (this project compiles without the DOM types).
declare const RED: any, $: any, document: any, getComputedStyle: any;

/** The committed screenshots change only when asked for; every run still takes them. */
const toDocs = Boolean(process.env.MIMOE_DOCS_SCREENSHOTS);
const screenshots = toDocs ? join(__dirname, '..', '..', '..', 'docs') : mkdtempSync(join(tmpdir(), 'mimoe-screenshots-'));
/** An environment variable of the Node-RED process, for a config URL written as ${NAME}. */
const URL_ENV = 'MIMOE_E2E_URL';
type Catalog = Record<string, unknown>;

describe('the editor in a real browser (chromium)', function () {
  this.timeout(180_000);
  let sim: McmSimulator;
  let editor: EditorPage;
  let page: Page;
  let configId = '';
  let deployId = '';

  before(async function () {
    this.timeout(120_000);
    sim = await McmSimulator.start({ quiet: true });
    const client = new McmClient({ url: sim.url, token: sim.key });
    await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
    client.close();
    editor = await EditorPage.start({ env: { ...process.env, [URL_ENV]: sim.url } });
    page = editor.page;
    mkdirSync(screenshots, { recursive: true });
  });

  after(async () => {
    await editor?.stop();
    await sim?.stop();
    if (!toDocs) rmSync(screenshots, { recursive: true, force: true });
  });

  afterEach(function () {
    editor?.reportFailure(this.currentTest);
  });

  // -----------------------------------------------------------------------------------------------
  // Helpers: each waits for what it needs, never for a fixed time

  const configIds = (type: string): Promise<string[]> =>
    page.evaluate((t) => {
      const ids: string[] = [];
      RED.nodes.eachConfig((n: { id: string; type: string }) => {
        if (n.type === t) ids.push(n.id);
      });
      return ids;
    }, type);
  /** The visible text input of a TypedInput field of the open dialog. */
  const typedInput = (field: string): Locator => page.locator(`.form-row:has(#node-input-${field}) input.red-ui-typedInput-input`);
  /** The open autocomplete list (jQuery UI menu) of the package. */
  const suggestions = (): Locator => page.locator('ul.mimoe-autocomplete:visible');

  async function openDialog(id: string): Promise<void> {
    await editor.onCanvas(id).dblclick();
    await page.locator('#node-dialog-ok').waitFor();
  }

  async function closeDialog(button: 'ok' | 'cancel'): Promise<void> {
    await page.locator(`#node-dialog-${button}`).click();
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
  }

  /**
   * Waits until nothing moves: no finite CSS animation or transition running (trays slide in),
   * no jQuery animation (palette categories slide open), no tooltip shown. For screenshots.
   */
  async function settled(): Promise<void> {
    await page.waitForFunction(
      () =>
        document
          .getAnimations()
          .filter(
            (a: { playState: string; effect?: { getTiming(): { iterations?: number } } }) =>
              a.playState === 'running' && a.effect?.getTiming().iterations !== Infinity,
          ).length === 0 && $(':animated, .red-ui-popover:visible').length === 0,
    );
  }

  /** Opens or closes a palette category. */
  async function paletteCategory(category: string, open: boolean): Promise<void> {
    const content = page.locator(`#red-ui-palette-base-category-${category}`);
    if ((await content.isVisible()) !== open) await page.locator(`#red-ui-palette-header-${category}`).click();
    await content.waitFor({ state: open ? 'visible' : 'hidden' });
  }

  // -----------------------------------------------------------------------------------------------

  it('builds, deploys and runs inject -> deploy -> debug with the mouse', async () => {
    // The editor loads with an empty flow and the package's palette category.
    await page.goto(editor.red.url);
    await page.locator('#red-ui-palette').waitFor();
    await page.locator('#red-ui-palette-header-mimOE').waitFor();
    await page.waitForFunction(() => RED.nodes.getType('mimoe-deploy') && document.querySelector('#red-ui-workspace-chart svg'));
    assert.deepEqual(
      await page.evaluate(() => RED.nodes.filterNodes({}).map((n: { type: string }) => n.type)),
      [],
      'an empty flow at start',
    );
    assert.equal(
      await page.evaluate(() => typeof (globalThis as { MimoeEditor?: unknown }).MimoeEditor),
      'object',
      'the shared editor code is loaded',
    );

    // The palette: every category collapsed but mimOE, which lists the package's nodes.
    await page.locator('#red-ui-palette .red-ui-component-footer button:has(i.fa-angle-double-up)').click();
    await page.locator('#red-ui-palette-base-category-common').waitFor({ state: 'hidden' });
    await paletteCategory('mimOE', true);
    const paletteTypes = await page
      .locator('#red-ui-palette-base-category-mimOE .red-ui-palette-node')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-palette-type')));
    const configTypes = ['mimoe-config', 'mimoe-fleet'];
    assert.deepEqual([...paletteTypes].sort(), launcher.nodeTypes.filter((type) => !configTypes.includes(type)).sort());
    await page.mouse.move(640, 400);
    await settled();
    await page.locator('#red-ui-palette').screenshot({ path: join(screenshots, 'palette.png') });

    // Three nodes in a row, dragged from the palette.
    await paletteCategory('common', true);
    const injectId = await editor.dragFromPalette('inject', 140, 220);
    deployId = await editor.dragFromPalette('mimoe-deploy', 360, 220);
    const debugId = await editor.dragFromPalette('debug', 580, 220);

    // The deploy node's dialog; its Server field makes a new mimoe-config in the config dialog.
    await openDialog(deployId);
    await page.locator('#node-input-btn-server-add').click();
    await page.locator('#node-config-input-url').waitFor();
    await page.locator('#node-config-input-name').fill('simulator');
    await page.locator('#node-config-input-url').fill(sim.url);
    await page.locator('#node-config-input-token').fill(sim.key);
    // The rows both config dialogs share (resources/mimoe-editor.js) show this dialog's own texts.
    const hintAfter = (field: string) => page.locator(`.form-row:has(#node-config-input-${field}) + .mimoe-hint`);
    assert.equal((await hintAfter('concurrency').innerText()).trim(), text('mimoe-config', 'hint.concurrency'));
    assert.equal((await hintAfter('proxy').innerText()).trim(), text('mimoe-config', 'hint.proxy'));
    await page.locator('#node-config-mimoe-test').click();
    const result = page.locator('#node-config-mimoe-test-result');
    await page.locator('#node-config-mimoe-test-result:is(.mimoe-ok, .mimoe-error)').waitFor();
    assert.equal((await result.textContent())?.trim(), text('mimoe-config', 'test.ok_plural', { mims: 0 }));
    assert.ok(await result.evaluate((el) => el.classList.contains('mimoe-ok')), 'shown as a success');
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    [configId] = await configIds('mimoe-config');
    assert.ok(configId, 'the config node was added');
    assert.equal(await page.locator('#node-input-server').inputValue(), configId, 'the new config node is chosen');

    // Mim name typed; the image picked from the live autocomplete list.
    await typedInput('mimName').fill('hello');
    await typedInput('image').focus();
    const item = suggestions().locator('li', { hasText: 'hello-v1' });
    await item.waitFor();
    assert.match(await suggestions().innerText(), /hello-v1\s+api-hello-v1/, 'the image with its id as detail');
    await settled();
    await page.screenshot({ path: join(screenshots, 'autocomplete.png') });
    await item.click();
    await suggestions().waitFor({ state: 'hidden' });
    assert.equal(await typedInput('image').inputValue(), 'hello-v1');
    // The field keeps the focus: a click into it opens the list again; Escape closes only the list.
    await typedInput('image').click();
    await item.waitFor();
    await page.keyboard.press('Escape');
    await suggestions().waitFor({ state: 'hidden' });
    assert.ok(await page.locator('#node-dialog-ok').isVisible(), 'Escape left the dialog open');
    await closeDialog('ok');
    const deployNode = await page.evaluate((id) => {
      const n = RED.nodes.node(id);
      return { server: n.server, mimName: n.mimName, image: n.image, imageType: n.imageType, valid: n.valid };
    }, deployId);
    assert.deepEqual(deployNode, { server: configId, mimName: 'hello', image: 'hello-v1', imageType: 'str', valid: true });

    // Wires drawn port to port, then Deploy.
    await editor.wire(injectId, deployId);
    await editor.wire(deployId, debugId);
    await editor.deploy();

    // The inject button deploys the mim; the debug sidebar shows it.
    await editor.pressInject(injectId);
    await page.locator('#red-ui-tab-debug-link-button').click();
    const message = page.locator('.red-ui-debug-msg', { hasText: 'api-hello' });
    await message.waitFor();
    await message.locator('.red-ui-debug-msg-expandable').first().click();
    await message.locator('.red-ui-debug-msg-object-key', { hasText: 'state' }).waitFor();
    const shown = await message.innerText();
    for (const expected of ['api-hello', 'hello-v1', 'started'])
      assert.ok(shown.includes(expected), `the debug sidebar shows ${expected}:\n${shown}`);
    // The deploy node's status says so too (status updates are throttled: it may come a bit later).
    await editor
      .onCanvas(deployId)
      .locator('.red-ui-flow-node-status-label', { hasText: text('mimoe-deploy', 'status.deployed', { name: 'hello' }) })
      .waitFor();
    await paletteCategory('common', false);
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    assert.ok(chart);
    await page.mouse.click(chart.x + chart.width - 60, chart.y + chart.height - 60); // nothing selected
    await settled();
    await page.screenshot({ path: join(screenshots, 'debug.png'), style: '.red-ui-notification { display: none !important; }' });

    const mims = sim.mims();
    assert.equal(mims.length, 1);
    assert.deepEqual(
      { id: mims[0].id, image: mims[0].image, state: mims[0].state },
      { id: 'api-hello', image: 'hello-v1', state: 'started' },
    );
    editor.assertNoProblems();
  });

  it('picks the only server for a new node, suggests the runtime env keys, uses the theme variables, accepts ${ENV} URLs', async () => {
    assert.ok(configId, 'the first test made the config node');

    // A new node takes the only mimoe-config: it is valid as dropped, and its dialog shows it.
    await paletteCategory('mimOE', true);
    const listId = await editor.dragFromPalette('mimoe-list', 360, 300);
    assert.deepEqual(await page.evaluate((id) => ({ server: RED.nodes.node(id).server, valid: RED.nodes.node(id).valid }), listId), {
      server: configId,
      valid: true,
    });
    await openDialog(listId);
    assert.equal(await page.locator('#node-input-server').inputValue(), configId);
    await closeDialog('cancel');

    // The env editor of the deploy dialog: a new row's key suggests the MCM.* keys, described.
    await openDialog(deployId);
    await page.locator('.form-row:has(#node-input-mimoe-env) .red-ui-editableList-addButton').click();
    const key = page.locator('#node-input-mimoe-env input.mimoe-env-key').last();
    await key.click();
    await suggestions().locator('li').first().waitFor();
    const offered = await suggestions()
      .locator('li')
      .evaluateAll((lis) =>
        lis.map((li) => ({
          key: li.querySelector('.mimoe-ac-value')?.textContent,
          detail: li.querySelector('.mimoe-ac-detail')?.textContent,
        })),
      );
    const runtimeKeys = Object.keys((catalog('mimoe-deploy').env as Catalog).keys as Catalog);
    assert.deepEqual(
      offered,
      runtimeKeys.map((k) => ({ key: `MCM.${k}`, detail: text('mimoe-deploy', `env.keys.${k}`) })),
    );
    assert.ok(runtimeKeys.includes('BASE_API_PATH'));
    await key.pressSequentially('base');
    await suggestions().locator('li').nth(1).waitFor({ state: 'detached' });
    assert.deepEqual(
      await suggestions().locator('li .mimoe-ac-value').allTextContents(),
      ['MCM.BASE_API_PATH'],
      'the list narrows as one types',
    );
    await suggestions().locator('li').first().click();
    assert.equal(await key.inputValue(), 'MCM.BASE_API_PATH');

    // The package's CSS takes its colours from Node-RED's theme variables only, so a theme
    // (light or dark) restyles it: every colour is a var(--red-ui-…), and changing one recolours.
    const css: string = await page.evaluate(() => document.getElementById('mimoe-editor-styles')?.textContent ?? '');
    const colours = [...css.matchAll(/([\w-]+)\s*:\s*([^;{}]+)/g)]
      .map((m) => ({ name: m[1], value: m[2].trim() }))
      .filter((d) => /^(color|background(-color)?|border(-\w+)?-color|border|box-shadow|outline(-color)?|fill|stroke)$/.test(d.name));
    assert.ok(colours.length >= 10, `the package styles colours (${colours.length})`);
    const literal = colours.filter(
      (d) =>
        !/^(inherit|transparent|currentcolor|none)$/i.test(d.value) &&
        (!/var\(--red-ui-[\w-]+\)/.test(d.value) || /#[0-9a-f]{3,8}\b|(rgb|hsl)a?\(/i.test(d.value.replace(/var\([^)]*\)/g, ''))),
    );
    assert.deepEqual(literal, [], 'colours not taken from the theme variables');
    const hint = page.locator('.form-row:has(#node-input-mimoe-env) .mimoe-inline-hint');
    const recoloured = await hint.evaluate((el) => {
      const rootStyle = document.documentElement.style;
      rootStyle.setProperty('--red-ui-secondary-text-color', 'rgb(1, 2, 3)');
      const colour = getComputedStyle(el).color;
      rootStyle.removeProperty('--red-ui-secondary-text-color');
      return colour;
    });
    assert.equal(recoloured, 'rgb(1, 2, 3)');
    assert.notEqual(await hint.evaluate((el) => getComputedStyle(el).color), 'rgb(1, 2, 3)');

    // The server's URL as ${NAME} (an environment variable of Node-RED) with a path after it:
    // valid in the dialog. Before a deploy, Test connection reads no environment variable and says
    // so; once deployed, it reaches the runtime with it and the saved token.
    await page.locator('#node-input-btn-server-edit').click();
    const url = page.locator('#node-config-input-url');
    await url.waitFor();
    await url.fill(`\${${URL_ENV}}/mcm/v1`);
    await url.dispatchEvent('change');
    assert.equal(await url.evaluate((el) => el.classList.contains('input-error')), false, 'the ${ENV} URL is valid');
    assert.ok(
      await page.locator('.form-row:has(#node-config-input-tls)').isVisible(),
      'the TLS settings of a URL that may be https are shown',
    );
    assert.equal(
      await page.evaluate(() => RED.nodes.getType('mimoe-config').defaults.url.validate('not a url', {}) === true),
      false,
      'a wrong URL is still refused',
    );
    const testResult = page.locator('#node-config-mimoe-test-result');
    await page.locator('#node-config-mimoe-test').click();
    await page.locator('#node-config-mimoe-test-result:is(.mimoe-ok, .mimoe-error)').waitFor();
    assert.equal(
      (await testResult.textContent())?.trim(),
      text('mimoe-config', 'admin.envNotDeployed', { setting: text('mimoe-config', 'label.url') }),
    );
    await page.locator('#node-config-dialog-ok').click();
    await url.waitFor({ state: 'detached' });
    await closeDialog('ok');
    await editor.deploy();
    await openDialog(deployId);
    await page.locator('#node-input-btn-server-edit').click();
    await url.waitFor();
    assert.equal(await url.inputValue(), `\${${URL_ENV}}/mcm/v1`);
    await page.locator('#node-config-mimoe-test').click();
    await page.locator('#node-config-mimoe-test-result:is(.mimoe-ok, .mimoe-error)').waitFor();
    assert.equal((await testResult.textContent())?.trim(), text('mimoe-config', 'test.ok', { mims: 1 }));
    await page.locator('#node-config-dialog-cancel').click();
    await url.waitFor({ state: 'detached' });
    await closeDialog('cancel');
    editor.assertNoProblems();
  });

  it('the remove node suggests mims by id, and images by id too (runtimes delete images by id only)', async () => {
    await paletteCategory('mimOE', true);
    const removeId = await editor.dragFromPalette('mimoe-remove', 360, 380);
    await openDialog(removeId);
    // A click opens the list (focus, or a click into the focused field); a list just closed stays
    // closed for a moment, so click until it shows.
    const openSuggestions = async (text: string): Promise<Locator> => {
      const item = suggestions().locator('li', { hasText: text });
      for (let tries = 0; tries < 20 && !(await item.isVisible()); tries++) {
        await typedInput('target').click();
        await item.waitFor({ timeout: 500 }).catch(() => undefined);
      }
      await item.waitFor();
      return item;
    };
    await openSuggestions('api-hello');
    await page.keyboard.press('Escape');
    await suggestions().waitFor({ state: 'hidden' });
    await page.locator('#node-input-resource').selectOption('image');
    await typedInput('target').fill('');
    const item = await openSuggestions('api-hello-v1');
    assert.match(await suggestions().innerText(), /api-hello-v1\s+hello-v1/, 'the id, with the image name as detail');
    await item.click();
    assert.equal(await typedInput('target').inputValue(), 'api-hello-v1');
    await closeDialog('cancel');
    editor.assertNoProblems();
  });
});
