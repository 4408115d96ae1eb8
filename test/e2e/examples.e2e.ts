/**
 * The shipped examples in a real editor (Debian's chromium, playwright-core, a real Node-RED with
 * this package): each file of examples/ is fetched the way Import > Examples fetches it and imported
 * as the clipboard import does (RED.view.importNodes), then every node it added, config nodes
 * included, must pass the editor's validation: an invalid node shows a warning triangle and makes
 * Deploy ask for confirmation. The editor applies no defaults on import, so a config node saved
 * without a newer setting must be valid too.
 *
 * Run by `npm run test:e2e`; not part of the main mocha run.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { EditorPage } from '../support/editor-page';

// What page.evaluate callbacks see in the browser (this project compiles without the DOM types).
declare const RED: any, $: any;

const EXAMPLES = readdirSync(join(__dirname, '..', '..', '..', 'examples'))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.replace(/\.json$/, ''))
  .sort();

interface Invalid {
  type: string;
  id: string;
  name: string;
  errors: unknown;
}

describe('the examples imported into a real editor (chromium)', function () {
  this.timeout(180_000);
  let editor: EditorPage;
  let page: Page;

  before(async function () {
    this.timeout(120_000);
    editor = await EditorPage.start();
    page = editor.page;
    await page.goto(editor.red.url);
    await page.locator('#red-ui-palette-header-mimOE').waitFor();
    await page.waitForFunction(() => RED.nodes.getType('mimoe-config') && RED.nodes.getType('mimoe-rollout'));
  });

  after(async () => {
    await editor?.stop();
  });

  afterEach(function () {
    editor?.reportFailure(this.currentTest);
  });

  /** Ids of every node and config node in the editor. */
  const allIds = (): Promise<string[]> =>
    page.evaluate(() => {
      const ids: string[] = [];
      RED.nodes.eachNode((n: { id: string }) => ids.push(n.id));
      RED.nodes.eachConfig((n: { id: string }) => ids.push(n.id));
      return ids;
    });

  it('offers every file of examples/ under Import > Examples', async () => {
    const listed = await page.evaluate(
      () =>
        new Promise((resolve, reject) =>
          $.getJSON('library/examples/flows/@mimoe-flows/node-red-mimoe')
            .done(resolve)
            .fail(() => reject(new Error('no examples'))),
        ),
    );
    assert.deepEqual((listed as Array<{ fn: string }>).map((entry) => entry.fn).sort(), EXAMPLES);
  });

  for (const example of EXAMPLES) {
    it(`${example}.json: every node is valid as imported`, async () => {
      const before = new Set(await allIds());
      const flow = await page.evaluate(
        (name) =>
          new Promise((resolve, reject) =>
            $.get(`library/examples/flows/@mimoe-flows/node-red-mimoe/${name}`)
              .done(resolve)
              .fail(() => reject(new Error(`cannot fetch the example ${name}`))),
          ),
        example,
      );
      // New ids: the examples share their config node, and this editor keeps every import.
      await page.evaluate((nodes) => RED.view.importNodes(nodes, { generateIds: true, addFlow: false, notify: false }), flow);
      const added = (await allIds()).filter((id) => !before.has(id));
      assert.ok(added.length >= (flow as unknown[]).length - 1, `${example}: the nodes were imported (${added.length})`);
      const invalid: Invalid[] = await page.evaluate((ids) => {
        const found: Invalid[] = [];
        for (const id of ids) {
          const n = RED.nodes.node(id);
          if (n && n.valid === false) found.push({ type: n.type, id: n.id, name: n.name ?? '', errors: n.validationErrors });
        }
        return found;
      }, added);
      const types = await page.evaluate((ids) => ids.map((id: string) => RED.nodes.node(id)?.type), added);
      assert.ok(types.includes('mimoe-config') || types.includes('mimoe-fleet'), `${example}: its config node was imported`);
      assert.deepEqual(invalid, [], `${example}: nodes the editor marks invalid`);
      editor.assertNoProblems();
    });
  }

  it('a config node saved before the slow-link settings existed is valid, and its dialog shows their defaults', async () => {
    // The config node of the previous version's examples (and of its users' flows): no proxy,
    // answerTimeout, lowSpeedBytes or lowSpeedWindow.
    const old = {
      id: 'mimoe-e2e-old-config',
      type: 'mimoe-config',
      name: 'saved by 0.1',
      url: 'http://127.0.0.1:1',
      clientId: '',
      timeout: '30',
      concurrency: '4',
      resource: 'mims',
      tokenSource: 'file',
      keyFile: '',
      tls: '',
      insecure: false,
    };
    await page.evaluate((node) => RED.view.importNodes([node], { generateIds: false, addFlow: false, notify: false }), old);
    const imported = await page.evaluate(
      (id) => ({ valid: RED.nodes.node(id).valid, errors: RED.nodes.node(id).validationErrors }),
      old.id,
    );
    assert.deepEqual(imported, { valid: true, errors: [] });

    await page.evaluate((id) => RED.editor.editConfig('', 'mimoe-config', id), old.id);
    await page.locator('#node-config-input-url').waitFor();
    const shown = await page.evaluate(() =>
      ['answerTimeout', 'lowSpeedBytes', 'lowSpeedWindow'].map((key) => $(`#node-config-input-${key}`).val()),
    );
    assert.deepEqual(shown, ['300', '1024', '60']);
    assert.equal(await page.locator('#node-config-input-answerTimeout').isVisible(), false, 'Slow links stays folded');
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate((id) => RED.nodes.node(id).valid, old.id), true);
    editor.assertNoProblems();
  });

  it('a fleet config node saved before its TLS, proxy and slow-link settings existed is valid, and its dialog shows the defaults', async () => {
    const old = {
      id: 'mimoe-e2e-old-fleet',
      type: 'mimoe-fleet',
      name: 'saved before slow links',
      members: [{ name: 'one', url: 'http://127.0.0.1:1' }],
      discover: false,
      seedUrl: '',
      includeSeed: true,
      filter: '',
      interval: '0',
      localKeyFile: false,
      keyFile: '',
      clientId: '',
      timeout: '30',
      concurrency: '4',
      resource: 'mims',
    };
    await page.evaluate((node) => RED.view.importNodes([node], { generateIds: false, addFlow: false, notify: false }), old);
    const imported = await page.evaluate(
      (id) => ({ valid: RED.nodes.node(id).valid, errors: RED.nodes.node(id).validationErrors }),
      old.id,
    );
    assert.deepEqual(imported, { valid: true, errors: [] });
    await page.evaluate((id) => RED.editor.editConfig('', 'mimoe-fleet', id), old.id);
    await page.locator('#node-config-input-seedUrl').waitFor({ state: 'attached' });
    const shown = await page.evaluate(() =>
      ['answerTimeout', 'lowSpeedBytes', 'lowSpeedWindow'].map((key) => $(`#node-config-input-${key}`).val()),
    );
    assert.deepEqual(shown, ['300', '1024', '60']);
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-seedUrl').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate((id) => RED.nodes.node(id).valid, old.id), true);
    editor.assertNoProblems();
  });
});
