/**
 * The dialogs' own words in a real browser (Debian's chromium, playwright-core, a real Node-RED
 * with this package): a new config node's URL field reads as an example and says "URL is
 * required" while blank; autocomplete against a runtime that cannot be reached gives the reason
 * as the list's entry; a node saved without a version gets the current one when its dialog saves
 * it; code samples in the package's help pages wrap, those of core nodes do not.
 *
 * Run by `npm run test:e2e`; not part of the main mocha run (not a *.test.ts file).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Locator, Page } from 'playwright-core';
import { configVersion } from '../../src/nodes/shared/migrations';
import { EditorPage, text } from '../support/editor-page';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');

// What page.evaluate callbacks see in the browser (this project compiles without the DOM types).
declare const RED: any, getComputedStyle: any;

/** A port on 127.0.0.1 that nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the dialogs in a real browser (chromium): blank URL, unreachable runtime, config versions, help pages', function () {
  this.timeout(180_000);
  let editor: EditorPage;
  let page: Page;

  before(async function () {
    this.timeout(120_000);
    editor = await EditorPage.start();
    page = editor.page;
    await editor.openEditor();
  });

  after(async () => {
    await editor?.stop();
  });

  afterEach(function () {
    editor?.reportFailure(this.currentTest);
  });

  /** The tooltip Node-RED shows on an invalid field while the mouse is on it. */
  async function tooltipOf(field: Locator): Promise<string> {
    await page.mouse.move(0, 0);
    await page.locator('.red-ui-popover:visible').waitFor({ state: 'detached' });
    await field.hover();
    const tooltip = page.locator('.red-ui-popover:visible');
    await tooltip.waitFor();
    return (await tooltip.innerText()).trim();
  }

  it('every check of every node type is one whose reason Node-RED shows (two arguments)', async () => {
    const checks = await page.evaluate(
      (all) =>
        all.flatMap((type: string) =>
          Object.entries(RED.nodes.getType(type).defaults)
            .filter(([, d]: [string, any]) => d.validate)
            .map(([field, d]: [string, any]) => ({ field: `${type}.${field}`, args: d.validate.length })),
        ),
      launcher.nodeTypes,
    );
    assert.ok(checks.length >= 40, `the node types have their checks (${checks.length})`);
    assert.deepEqual(
      checks.filter((check: { args: number }) => check.args !== 2),
      [],
    );
  });

  it('a new server: the URL placeholder is an example, a blank URL is required, a wrong one says why', async () => {
    await page.locator('#red-ui-palette-header-mimOE').waitFor();
    const removeId = await editor.dragFromPalette('mimoe-remove', 360, 220);
    await editor.onCanvas(removeId).dblclick();
    await page.locator('#node-input-btn-server-add').click();
    const url = page.locator('#node-config-input-url');
    await url.waitFor();

    const placeholder = await url.getAttribute('placeholder');
    assert.equal(placeholder, text('mimoe-config', 'placeholder.url'));
    assert.match(placeholder ?? '', /^e\.g\. http:\/\/\S+$/, 'the placeholder reads as an example');

    assert.equal(await url.inputValue(), '');
    assert.ok(await url.evaluate((el) => el.classList.contains('input-error')), 'a blank URL is marked');
    assert.equal(await tooltipOf(url), 'URL is required');
    assert.equal(text('mimoe-config', 'validation.urlRequired'), 'URL is required');

    await url.fill('127.0.0.1:8083');
    await url.dispatchEvent('change');
    assert.equal(await tooltipOf(url), text('mimoe-config', 'validation.url'));

    await url.fill('http://127.0.0.1:8083');
    await url.dispatchEvent('change');
    assert.equal(await url.evaluate((el) => el.classList.contains('input-error')), false, 'a URL is valid');
    await page.locator('#node-config-dialog-cancel').click();
    await url.waitFor({ state: 'detached' });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
    editor.assertNoProblems();
  });

  it('autocomplete against a runtime that cannot be reached shows the reason in the list', async () => {
    const port = await closedPort();
    const removeId = await editor.dragFromPalette('mimoe-remove', 360, 320);
    await editor.onCanvas(removeId).dblclick();
    await page.locator('#node-input-btn-server-add').click();
    await page.locator('#node-config-input-url').fill(`http://127.0.0.1:${port}`);
    await page.locator('#node-config-input-token').fill('a-key');
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });

    // What the admin route answers for the dialog's server: the reason the list must show.
    const serverId = await page.locator('#node-input-server').inputValue();
    const answer = await page.evaluate(
      (id) =>
        fetch('mimoe/resources/mims', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id, settings: { url: RED.nodes.node(id).url }, token: 'a-key' }),
        }).then((res) => res.json()),
      serverId,
    );
    assert.equal(answer.ok, false);
    assert.ok(typeof answer.message === 'string' && answer.message.length > 0, 'the route gives a reason');
    const expected = text('mimoe-config', 'autocomplete.failed', { message: answer.message });

    await page.locator('.form-row:has(#node-input-target) input.red-ui-typedInput-input').focus();
    const list = page.locator('ul.mimoe-autocomplete:visible');
    await list.waitFor();
    const entries = await list.locator('li').allInnerTexts();
    assert.deepEqual(
      entries.map((entry) => entry.trim()),
      [expected],
      'the list holds the reason, and nothing else',
    );
    assert.equal(await list.locator('li .mimoe-ac-notice').count(), 1);
    // The same reason stays under the field once the list closes.
    assert.equal((await page.locator('.mimoe-ac-message').innerText()).trim(), expected);
    // The reason is not a value: choosing it with the keys leaves the field as it was.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('.form-row:has(#node-input-target) input.red-ui-typedInput-input').inputValue(), '');
    if (await list.isVisible()) await page.keyboard.press('Escape'); // closes the list, not the dialog
    await list.waitFor({ state: 'hidden' });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
    editor.assertNoProblems();
  });

  it('a node saved without a version (release 0.1.0), opened and saved with Done, has the current version, as its server', async () => {
    await page.evaluate(
      (z) => {
        RED.nodes.import([
          { id: 'old-config', type: 'mimoe-config', name: 'old', url: 'http://127.0.0.1:8083', timeout: '30', concurrency: '4' },
          { id: 'old-list', type: 'mimoe-list', z, name: 'old list', server: 'old-config', x: 360, y: 420, wires: [[]] },
        ]);
        RED.view.redraw(true);
      },
      await page.evaluate(() => RED.workspaces.active()),
    );
    const versions = () => page.evaluate(() => [RED.nodes.node('old-list').version, RED.nodes.node('old-config').version] as unknown[]);
    assert.deepEqual(await versions(), [undefined, undefined]);

    await editor.onCanvas('old-list').dblclick();
    await page.locator('#node-input-btn-server-edit').click();
    await page.locator('#node-config-input-url').waitFor();
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    await page.locator('#node-dialog-ok').click();
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });

    const current = [configVersion('mimoe-list'), configVersion('mimoe-config')];
    assert.ok(current.every((version) => version >= 1));
    assert.deepEqual(await versions(), current);
    assert.deepEqual(await page.evaluate(() => [RED.settings.mimoeListVersion, RED.settings.mimoeConfigVersion]), current);
    editor.assertNoProblems();
  });

  it("code samples wrap in the package's help pages, and only there", async () => {
    const whiteSpace = async (type: string): Promise<string> => {
      await page.evaluate((t) => RED.sidebar.help.show(t), type);
      const code = page.locator('#red-ui-sidebar .red-ui-sidebar-help-stack .red-ui-help code').first();
      await code.waitFor();
      return code.evaluate((el) => getComputedStyle(el).whiteSpace);
    };
    assert.equal(await whiteSpace('mimoe-composition'), 'normal');
    assert.equal(await whiteSpace('debug'), 'nowrap', "core nodes' help is left as Node-RED draws it");
    editor.assertNoProblems();
  });
});
