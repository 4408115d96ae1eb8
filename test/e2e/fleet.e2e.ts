/**
 * The fleet dialogs in a real browser (Debian's chromium, playwright-core) against a real
 * Node-RED with this package and a simulated fleet: a rollout node dropped from the palette, a new
 * mimoe-fleet made in its config dialog (a member row added, discovery through Insight, Show
 * members), the operation switching the rows shown, Deploy, the inject button, and the
 * RolloutResult in the debug sidebar. Any page error, and any console error or failed request
 * from the package's editor code, fails the test.
 *
 * Run by `npm run test:e2e`; not part of the main mocha run.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { McmClient } from '../../src/mcm/client';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmFleet } from '../../src/simulator';
import { EditorPage, text } from '../support/editor-page';

// What page.evaluate callbacks see in the browser (this project compiles without the DOM types).
declare const RED: any;

const SIZE = 3;

describe('the fleet dialogs in a real browser (chromium)', function () {
  this.timeout(180_000);
  let fleet: McmFleet;
  let editor: EditorPage;
  let page: Page;

  before(async function () {
    this.timeout(120_000);
    fleet = await McmFleet.start({ size: SIZE, quiet: true });
    for (const device of fleet.devices) {
      const client = new McmClient({ url: device.url, token: device.key });
      await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
      client.close();
    }
    editor = await EditorPage.start({ height: 900 });
    page = editor.page;
  });

  after(async () => {
    await editor?.stop();
    await fleet?.stop();
  });

  afterEach(function () {
    editor?.reportFailure(this.currentTest);
  });

  it('makes a fleet in its dialog (a member row, discovery, Show members) and rolls a deploy out to it', async () => {
    await page.goto(editor.red.url);
    await page.locator('#red-ui-palette-header-mimOE').waitFor();
    await page.waitForFunction(() => RED.nodes.getType('mimoe-rollout') && RED.nodes.getType('mimoe-fleet'));
    assert.equal(await page.locator('#red-ui-palette .red-ui-palette-node[data-palette-type="mimoe-fleet"]').count(), 0, 'a config node');

    const injectId = await editor.dragFromPalette('inject', 140, 200);
    const rolloutId = await editor.dragFromPalette('mimoe-rollout', 380, 200);
    const debugId = await editor.dragFromPalette('debug', 620, 200);

    // The rollout dialog: the operation decides which rows show.
    await editor.onCanvas(rolloutId).dblclick();
    await page.locator('#node-dialog-ok').waitFor();
    const operation = page.locator('#node-input-operation');
    assert.equal(await operation.inputValue(), 'deploy');
    assert.ok(await page.locator('.form-row:has(#node-input-mimName)').isVisible());
    assert.ok(!(await page.locator('.form-row:has(#node-input-filename)').isVisible()));
    await operation.selectOption('upload');
    assert.ok(await page.locator('.form-row:has(#node-input-filename)').isVisible());
    assert.ok(!(await page.locator('.form-row:has(#node-input-mimName)').isVisible()));
    assert.ok(!(await page.locator('.form-row:has(#node-input-ifExists)').isVisible()), 'no ifExists for uploads');
    await operation.selectOption('deploy');

    // A new fleet, in its own dialog.
    await page.locator('#node-input-btn-fleet-add').click();
    await page.locator('#node-config-input-seedUrl').waitFor({ state: 'attached' });
    await page.locator('#node-config-input-name').fill('simulated fleet');
    const members = page.locator('#node-config-input-mimoe-members');
    const addMember = page.locator('.form-row:has(#node-config-input-mimoe-members) .red-ui-editableList-addButton');
    await addMember.click();
    const row = members.locator('li').last();
    await row.locator('input.mimoe-member-name').fill('listed-one');
    await row.locator('input.mimoe-member-url').fill('not a url');
    await row.locator('input.mimoe-member-url').dispatchEvent('change');
    assert.ok(
      await row.locator('input.mimoe-member-url').evaluate((el) => el.classList.contains('mimoe-invalid')),
      'a wrong URL is marked',
    );
    await row.locator('input.mimoe-member-url').fill(fleet.urls[0]);
    await row.locator('input.mimoe-member-url').dispatchEvent('change');
    assert.ok(!(await row.locator('input.mimoe-member-url').evaluate((el) => el.classList.contains('mimoe-invalid'))));

    // The connection settings, as on mimoe-config: TLS only while a member or the seed may be
    // https (an https:// URL or an ${ENV}), the warning only with accept self-signed, the proxy
    // always, the slow-link settings folded.
    const tlsRow = page.locator('.form-row:has(#node-config-input-tls)');
    const warning = page.locator('.mimoe-insecure-warning');
    assert.ok(!(await tlsRow.isVisible()), 'no TLS settings for http members');
    assert.ok(await page.locator('.form-row:has(#node-config-input-proxy)').isVisible());
    // The rows both config dialogs share (resources/mimoe-editor.js) show this dialog's own texts.
    const hintAfter = (field: string) => page.locator(`.form-row:has(#node-config-input-${field}) + .mimoe-hint`);
    assert.equal((await hintAfter('concurrency').innerText()).trim(), text('mimoe-fleet', 'hint.concurrency'));
    assert.equal((await hintAfter('proxy').innerText()).trim(), text('mimoe-fleet', 'hint.proxy'));
    await row.locator('input.mimoe-member-url').fill('https://127.0.0.1:8443');
    assert.ok(await tlsRow.isVisible(), 'TLS settings for an https member');
    assert.ok(!(await warning.isVisible()));
    await page.locator('#node-config-input-insecure').check();
    assert.ok(await warning.isVisible(), 'the warning with accept self-signed');
    await page.locator('#node-config-input-insecure').uncheck();
    await row.locator('input.mimoe-member-url').fill(fleet.urls[0]);
    assert.ok(!(await tlsRow.isVisible()));
    await page.locator('#node-config-input-discover').check();
    await page.locator('#node-config-input-seedUrl').fill('${FLEET_SEED}');
    assert.ok(await tlsRow.isVisible(), 'TLS settings for a seed from an environment variable');
    await page.locator('#node-config-input-discover').uncheck();
    assert.ok(!(await tlsRow.isVisible()), 'the seed counts only with discovery on');
    await page.locator('#node-config-input-discover').check();
    const answerTimeout = page.locator('#node-config-input-answerTimeout');
    assert.ok(!(await answerTimeout.isVisible()), 'the slow-link settings start folded');
    await page.locator('#node-config-mimoe-slow-links').click();
    assert.equal(await answerTimeout.inputValue(), '300');
    await answerTimeout.fill('soon');
    await answerTimeout.dispatchEvent('change');
    assert.ok(await answerTimeout.evaluate((el) => el.classList.contains('input-error')), 'a wrong answer wait is refused');
    await answerTimeout.fill('300');
    await answerTimeout.dispatchEvent('change');
    assert.ok(!(await answerTimeout.evaluate((el) => el.classList.contains('input-error'))));

    await page.locator('#node-config-input-seedUrl').fill(fleet.urls[0]);
    assert.ok(!(await tlsRow.isVisible()));
    await page.locator('#node-config-input-filter').fill('device-0[12]');
    await page.locator('#node-config-input-filter').dispatchEvent('change');
    assert.ok(
      await page.locator('#node-config-input-filter').evaluate((el) => el.classList.contains('input-error')),
      'brackets are refused',
    );
    await page.locator('#node-config-input-filter').fill('device-*');
    await page.locator('#node-config-input-filter').dispatchEvent('change');
    assert.ok(!(await page.locator('#node-config-input-filter').evaluate((el) => el.classList.contains('input-error'))));
    await page.locator('#node-config-input-token').fill(fleet.key);

    // Show members: the listed one, then the seed and the devices Insight lists (the seed's URL counts once).
    await page.locator('#node-config-mimoe-show').click();
    const shown = page.locator('#node-config-mimoe-show-result');
    await page.locator('#node-config-mimoe-show-result:is(.mimoe-ok, .mimoe-error)').waitFor();
    const names = ['listed-one', 'device-02', 'device-03'];
    assert.equal((await shown.textContent())?.trim(), text('mimoe-fleet', 'show.count_plural', { count: 3, names: names.join(', ') }));
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-seedUrl').waitFor({ state: 'detached' });
    const fleetNode = await page.evaluate(() => {
      let found: any;
      RED.nodes.eachConfig((n: any) => {
        if (n.type === 'mimoe-fleet') found = n;
      });
      return {
        id: found.id,
        members: found.members,
        discover: found.discover,
        filter: found.filter,
        connection: [found.tls, found.insecure, found.proxy, found.answerTimeout, found.lowSpeedBytes, found.lowSpeedWindow],
        valid: found.valid,
        errors: found.validationErrors,
      };
    });
    assert.deepEqual(fleetNode.members, [{ name: 'listed-one', url: fleet.urls[0] }]);
    assert.equal(fleetNode.discover, true);
    assert.deepEqual(fleetNode.connection, ['', false, '', 300, 1024, 60]);
    assert.equal(fleetNode.valid, true, JSON.stringify(fleetNode.errors));
    assert.equal(await page.locator('#node-input-fleet').inputValue(), fleetNode.id);

    // The deploy: hello from hello-v1 on every member.
    await page.locator('.form-row:has(#node-input-mimName) input.red-ui-typedInput-input').fill('hello');
    await page.locator('.form-row:has(#node-input-image) input.red-ui-typedInput-input').fill('hello-v1');
    await page.locator('#node-input-parallel').fill('2');
    await page.locator('#node-dialog-ok').click();
    await page.locator('.red-ui-tray').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate((id) => RED.nodes.node(id).valid, rolloutId), true);

    await editor.wire(injectId, rolloutId);
    await editor.wire(rolloutId, debugId);
    await editor.deploy();
    await editor.pressInject(injectId);
    await page.locator('#red-ui-tab-debug-link-button').click();
    const message = page.locator('.red-ui-debug-msg', { hasText: 'succeeded' });
    await message.waitFor();
    await editor
      .onCanvas(rolloutId)
      .locator('.red-ui-flow-node-status-label', { hasText: text('mimoe-rollout', 'status.progress', { done: 3, total: 3 }) })
      .waitFor();
    for (const device of fleet.devices)
      assert.deepEqual(
        device.sim.mims().map((m) => m.id),
        ['api-hello'],
        device.name,
      );
    editor.assertNoProblems();
  });
});
