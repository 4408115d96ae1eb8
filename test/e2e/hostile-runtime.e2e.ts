/**
 * A hostile runtime feeding the editor, in a real browser (Debian's chromium, playwright-core):
 * image names and ids, mim ids, error texts and the msgs of a flow that each carry markup that
 * would run script if it were inserted as HTML. Test connection, the live suggestions, the node
 * status and the debug sidebar must show it as text; no element of it may appear in the page and
 * its script must never run. The runtime is this test's own server on 127.0.0.1.
 *
 * Run by `npm run test:e2e`; not part of the main mocha run (not a *.test.ts file).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Locator, Page } from 'playwright-core';
import { EditorPage, text } from '../support/editor-page';
import { closeServer, listenOnLoopback } from '../support/loopback-server';

// What page.evaluate callbacks see in the browser (this project compiles without the DOM types).
declare const document: any, window: any;

/** Markup whose script records `tag` in window.__mimoePwned if it ever becomes an element. */
const markup = (tag: string) => `<img src="x" class="mimoe-pwned" onerror="(window.__mimoePwned ??= []).push('${tag}')">`;

/** What the runtime answers GET /mcm/v1/mims and Insight's /nodes with. */
type MimsMode = 'list' | 'json-error' | 'text-error';

describe('a hostile runtime in the editor (chromium): its markup is only ever text', function () {
  this.timeout(180_000);
  let editor: EditorPage;
  let page: Page;
  let runtime: http.Server;
  let url = '';
  let mims: MimsMode = 'list';

  before(async function () {
    this.timeout(120_000);
    runtime = http.createServer((req, res) => {
      const send = (status: number, type: string, body: string) => res.writeHead(status, { 'Content-Type': type }).end(body);
      if (req.url === '/mcm/v1/images') {
        return send(200, 'application/json', JSON.stringify([{ id: markup('image-id'), name: markup('image-name') }]));
      }
      if (req.url === '/mimik-mesh/insight/v1/info')
        return send(200, 'application/json', JSON.stringify({ id: 'seed', name: markup('seed') }));
      if (req.url === '/mimik-mesh/insight/v1/nodes?type=linkLocal') {
        if (mims === 'json-error') return send(500, 'application/json', JSON.stringify({ error: { message: markup('insight-error') } }));
        const address = { type: 'local', url: { href: 'http://127.0.0.1:1' } };
        return send(200, 'application/json', JSON.stringify({ data: [{ id: 'n1', name: markup('member'), addresses: [address] }] }));
      }
      if (req.url !== '/mcm/v1/mims') return send(404, 'text/plain', 'not here');
      if (mims === 'json-error') return send(500, 'application/json', JSON.stringify({ error: { message: markup('json-error') } }));
      if (mims === 'text-error') return send(403, 'text/plain', markup('text-error'));
      send(200, 'application/json', JSON.stringify([{ id: markup('mim-id'), image: markup('mim-image'), state: markup('mim-state') }]));
    });
    url = await listenOnLoopback(runtime);
    editor = await EditorPage.start();
    page = editor.page;
    await editor.openEditor();
  });

  after(async () => {
    await editor?.stop();
    if (runtime) await closeServer(runtime);
  });

  afterEach(function () {
    editor?.reportFailure(this.currentTest);
  });

  /** No element made of the runtime's markup, and none of its script ran. */
  async function assertNothingRan(): Promise<void> {
    assert.deepEqual(await page.evaluate(() => window.__mimoePwned ?? []), [], 'script of the runtime ran');
    assert.equal(await page.evaluate(() => document.querySelectorAll('img.mimoe-pwned').length), 0, 'markup became an element');
  }

  /** The visible text input of a TypedInput field of the open dialog. */
  const typedInput = (field: string): Locator => page.locator(`.form-row:has(#node-input-${field}) input.red-ui-typedInput-input`);

  /** Clicks Test connection and returns the result line's text once it is final. */
  async function testConnection(): Promise<string> {
    await page.locator('#node-config-mimoe-test').click();
    const result = page.locator('#node-config-mimoe-test-result:is(.mimoe-ok, .mimoe-error)');
    await result.waitFor();
    return ((await result.textContent()) ?? '').trim();
  }

  it('Test connection, suggestions of images and mims: markup in names, ids and error texts is shown as text', async () => {
    const deployId = await editor.dragFromPalette('mimoe-deploy', 360, 220);
    await editor.onCanvas(deployId).dblclick();
    await page.locator('#node-input-btn-server-add').click();
    await page.locator('#node-config-input-url').fill(url);
    await page.locator('#node-config-input-token').fill('a-key');

    // An MCM error whose message is markup: the editor names the status, not the markup.
    mims = 'json-error';
    const jsonError = await testConnection();
    assert.match(jsonError, /HTTP 500/);
    assert.ok(!jsonError.includes('<img'), `the markup is not repeated: ${jsonError}`);
    // A plain-text refusal that is markup: not shown either.
    mims = 'text-error';
    const textError = await testConnection();
    assert.match(textError, /HTTP 403, text\/plain/);
    assert.ok(!textError.includes('<img'), `the markup is not repeated: ${textError}`);
    // The list of mims counts them, whatever they are called.
    mims = 'list';
    assert.equal(await testConnection(), text('mimoe-config', 'test.ok', { mims: 1 }));
    await assertNothingRan();
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });

    // The image suggestions: the name, with the id as detail, each as text.
    await typedInput('image').focus();
    const list = page.locator('ul.mimoe-autocomplete:visible');
    await list.locator('li .mimoe-ac-detail').first().waitFor();
    assert.deepEqual(await list.locator('li .mimoe-ac-value').allTextContents(), [markup('image-name')]);
    assert.deepEqual(await list.locator('li .mimoe-ac-detail').allTextContents(), [markup('image-id')]);
    await list.locator('li').first().click();
    assert.equal(await typedInput('image').inputValue(), markup('image-name'));
    await assertNothingRan();
    await page.locator('#node-dialog-cancel').click();
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });

    // The mim suggestions of a remove node: the id, with image and state as detail.
    const removeId = await editor.dragFromPalette('mimoe-remove', 360, 320);
    await editor.onCanvas(removeId).dblclick();
    await typedInput('target').focus();
    await list.locator('li .mimoe-ac-detail').first().waitFor();
    assert.deepEqual(await list.locator('li .mimoe-ac-value').allTextContents(), [markup('mim-id')]);
    assert.deepEqual(await list.locator('li .mimoe-ac-detail').allTextContents(), [`${markup('mim-image')} ${markup('mim-state')}`]);
    await assertNothingRan();
    await page.keyboard.press('Escape');
    await list.waitFor({ state: 'hidden' });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
    // Neither node is complete: off the workspace before the next test deploys.
    for (const id of [deployId, removeId]) {
      await editor.onCanvas(id).click();
      await page.keyboard.press('Delete');
      await editor.onCanvas(id).waitFor({ state: 'detached' });
    }
    editor.assertNoProblems();
  });

  it("a flow's msgs, errors and status: the debug sidebar and the node show the runtime's markup as text", async () => {
    const injectId = await editor.dragFromPalette('inject', 140, 420);
    const listId = await editor.dragFromPalette('mimoe-list', 360, 420);
    const debugId = await editor.dragFromPalette('debug', 580, 420);
    await editor.wire(injectId, listId);
    await editor.wire(listId, debugId);
    await editor.deploy();
    await page.locator('#red-ui-tab-debug-link-button').click();

    mims = 'list';
    await editor.pressInject(injectId);
    const listed = page.locator('.red-ui-debug-msg', { hasText: 'array[1]' });
    await listed.waitFor();
    await listed.locator('.red-ui-debug-msg-expandable').first().click();
    await listed.locator('.red-ui-debug-msg-expandable').nth(1).click();
    await listed.locator('.red-ui-debug-msg-object-key', { hasText: 'state' }).waitFor();
    // Node-RED cuts long strings short: the start of the id, as text.
    const shown = await listed.innerText();
    assert.ok(shown.includes(`id: "${markup('mim-id').slice(0, 60)}`), shown);

    mims = 'json-error';
    await editor.pressInject(injectId);
    const failed = page.locator('.red-ui-debug-msg', { hasText: 'listMims failed' });
    await failed.waitFor();
    assert.ok((await failed.innerText()).includes('HTTP 500'), await failed.innerText());
    await editor.onCanvas(listId).locator('.red-ui-flow-node-status-label').filter({ hasText: /\S/ }).waitFor();
    await assertNothingRan();
    editor.assertNoProblems();
  });

  it("Show members of a fleet: names discovered through the runtime's Insight, and its error texts, are shown as text", async () => {
    const rolloutId = await editor.dragFromPalette('mimoe-rollout', 360, 520);
    await editor.onCanvas(rolloutId).dblclick();
    await page.locator('#node-input-btn-fleet-add').click();
    await page.locator('#node-config-input-discover').check();
    await page.locator('#node-config-input-seedUrl').fill(url);
    const show = async () => {
      await page.locator('#node-config-mimoe-show').click();
      const result = page.locator('#node-config-mimoe-show-result:is(.mimoe-ok, .mimoe-error)');
      await result.waitFor();
      return ((await result.textContent()) ?? '').trim();
    };
    mims = 'list';
    assert.equal(await show(), text('mimoe-fleet', 'show.count_plural', { count: 2, names: `${markup('seed')}, ${markup('member')}` }));
    mims = 'json-error';
    const failed = await show();
    assert.match(failed, /HTTP 500/);
    assert.ok(!failed.includes('<img'), `the markup is not repeated: ${failed}`);
    await assertNothingRan();
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-input-seedUrl').waitFor({ state: 'detached' });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
    editor.assertNoProblems();
  });
});
