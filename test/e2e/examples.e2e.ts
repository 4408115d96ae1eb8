/**
 * The shipped examples in a real editor (Debian's chromium, playwright-core, a real Node-RED with
 * this package), as a newcomer meets them after `npm start`: the round trip is installed, the
 * simulator has nothing uploaded, a simulated fleet runs. Every other example is imported through
 * the menu's Import dialog, Examples tab, one after another: none meets Node-RED's "nodes already
 * exist" notice, each opens on a tab whose nodes start at the top left, and every node is valid
 * as imported (an invalid node shows a warning triangle and makes Deploy ask for confirmation).
 * Importing the round trip again meets the notice, with the buttons the README names. Then
 * Deploy, and every inject of every example pressed in a shuffled order: the debug sidebar shows
 * each step's result and no failure but the one the composition example makes on purpose.
 *
 * Run by `npm run test:e2e`; not part of the main mocha run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmFleet, McmSimulator } from '../../src/simulator';
import { EditorPage } from '../support/editor-page';

// What page.evaluate callbacks see in the browser (this project compiles without the DOM types).
declare const RED: any, $: any, window: any;

const root = join(__dirname, '..', '..', '..');
const PACKAGE = '@mimoe-flows/node-red-mimoe';
const DEMO = 'round-trip';
type FlowNode = Record<string, any>;

const EXAMPLES = readdirSync(join(root, 'examples'))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.replace(/\.json$/, ''))
  .sort();
const flowOf = (example: string): FlowNode[] => JSON.parse(readFileSync(join(root, 'examples', `${example}.json`), 'utf8')) as FlowNode[];
const tabOf = (example: string): FlowNode => flowOf(example).find((n) => n.type === 'tab')!;
/** The inject the composition example fails with on purpose (its name says so). */
const failsOnPurpose = (inject: FlowNode): boolean => / fails$/.test(inject.name as string);

/** A message the debug sidebar received: from a debug node, or a node's error (level 20). */
interface DebugMessage {
  id: string;
  name?: string;
  level?: number;
  topic?: string;
  msg: string;
}

interface Invalid {
  type: string;
  id: string;
  name: string;
  errors: unknown;
}

/** A shuffled copy (Fisher-Yates). */
function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** The debug nodes a msg from `start` reaches, following the wires. */
function debugNodesAfter(flow: FlowNode[], start: FlowNode): string[] {
  const seen = new Set<string>();
  const queue: string[] = (start.wires as string[][]).flat();
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...((flow.find((n) => n.id === id)?.wires ?? []) as string[][]).flat());
  }
  return flow.filter((n) => n.type === 'debug' && seen.has(n.id)).map((n) => n.id as string);
}

/** The README's section that says what to click when an import meets the "already exist" notice. */
function readmeImportAdvice(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  return quickStart.replace(/\s+/g, ' ');
}

describe('the examples imported into a real editor (chromium)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'mimoe-e2e-examples-'));
  let sim: McmSimulator;
  let fleet: McmFleet;
  let editor: EditorPage;
  let page: Page;

  before(async function () {
    this.timeout(120_000);
    // What npm start sets up: the simulator, a fleet accepting the same key, the demo tar.
    const keyFile = join(dir, 'mimoe-api-key.env');
    sim = await McmSimulator.start({ quiet: true, keyFile });
    fleet = await McmFleet.start({ size: 3, quiet: true, keyFile });
    const tar = join(dir, 'hello-v1.tar');
    writeFileSync(tar, buildImageTar({ name: 'hello-v1' }));
    const env = { ...process.env, MIMOE_URL: sim.url, MIMOE_KEY_FILE: keyFile, MIMOE_DEMO_TAR: tar, MIMOE_FLEET_SEED: fleet.urls[0] };
    editor = await EditorPage.start({ env });
    page = editor.page;
    // npm start installs the round trip as the flow of a new user directory.
    const installed = await fetch(`${editor.red.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flowOf(DEMO)),
    });
    assert.equal(installed.status, 204, await installed.text());
    await page.goto(editor.red.url);
    await page.locator('#red-ui-palette-header-mimOE').waitFor();
    await page.waitForFunction(() => RED.nodes.getType('mimoe-config') && RED.nodes.getType('mimoe-rollout'));
    await page.waitForFunction((tab) => RED.nodes.workspace(tab), tabOf(DEMO).id);
    // Everything the debug sidebar receives, as it receives it.
    await page.evaluate(() => {
      window.mimoeDebug = [];
      RED.comms.subscribe('debug', (_topic: string, msg: unknown) => window.mimoeDebug.push(msg));
    });
  });

  after(async () => {
    await editor?.stop();
    await fleet?.stop();
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
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

  /** The texts of the notifications on screen. */
  const notifications = (): Promise<string[]> => page.locator('.red-ui-notification').allInnerTexts();

  /** Menu > Import, the Examples tab, this package's folder, the example, Import: as a person does. */
  async function importThroughDialog(example: string): Promise<void> {
    await page.locator('#red-ui-header-button-sidemenu').click();
    await page.locator('#menu-item-import').click();
    const dialog = page.locator('#red-ui-clipboard-dialog');
    await dialog.waitFor();
    // The dialog keeps the hidden trees of its earlier openings.
    const entries = dialog.locator('.red-ui-treeList-label-text:visible');
    const entry = entries.filter({ hasText: new RegExp(`^${example}$`) });
    const folder = entries.filter({ hasText: PACKAGE });
    // A click while the dialog still opens can go unnoticed: click the tab until it shows.
    for (let attempt = 1; !(await folder.isVisible()); attempt++) {
      await dialog.locator('#red-ui-clipboard-dialog-import-tabs a', { hasText: 'Examples' }).click();
      await folder.waitFor({ timeout: 2000 }).catch((err: Error) => {
        if (attempt === 3) throw err;
      });
    }
    if (!(await entry.isVisible())) await folder.click();
    await entry.click();
    await page.locator('#red-ui-clipboard-dialog-ok').click();
    await dialog.waitFor({ state: 'hidden' });
  }

  it('offers every file of examples/ under Import > Examples', async () => {
    const listed = await page.evaluate(
      (pkg) =>
        new Promise((resolve, reject) =>
          $.getJSON(`library/examples/flows/${pkg}`)
            .done(resolve)
            .fail(() => reject(new Error('no examples'))),
        ),
      PACKAGE,
    );
    assert.deepEqual((listed as Array<{ fn: string }>).map((entry) => entry.fn).sort(), EXAMPLES);
  });

  for (const example of shuffled(EXAMPLES.filter((e) => e !== DEMO))) {
    it(`${example}: imported after the others with no "already exist" notice, opens at the top left, every node valid`, async () => {
      const before = new Set(await allIds());
      const tab = tabOf(example);
      await importThroughDialog(example);
      const conflict = await page.evaluate(() => RED._('clipboard.import.conflictNotification1'));
      // The import fetches the flow first: it is done when the tab is there, or the notice is.
      await page.waitForFunction(([id, text]) => RED.nodes.workspace(id) || $('.red-ui-notification').text().includes(text), [
        tab.id,
        conflict,
      ] as const);
      assert.ok(!(await notifications()).some((text) => text.includes(conflict)), `${example}: ${JSON.stringify(await notifications())}`);
      // Imported as shipped, not as a copy: the flow keeps its own ids.
      const added = (await allIds()).filter((id) => !before.has(id));
      assert.deepEqual(
        added.sort(),
        flowOf(example)
          .filter((n) => n.type !== 'tab')
          .map((n) => n.id as string)
          .sort(),
      );

      const invalid: Invalid[] = await page.evaluate((ids) => {
        const found: Invalid[] = [];
        for (const id of ids) {
          const n = RED.nodes.node(id);
          if (n && n.valid === false) found.push({ type: n.type, id: n.id, name: n.name ?? '', errors: n.validationErrors });
        }
        return found;
      }, added);
      assert.deepEqual(invalid, [], `${example}: nodes the editor marks invalid`);

      // The person clicks the new tab: its first inject (or the watch node) is in view, nothing starts off the top or the left.
      await page.locator(`#red-ui-workspace-tabs li.red-ui-tab[id="red-ui-tab-${tab.id}"] a`).click();
      const first = flowOf(example).find((n) => n.type === 'inject')!;
      const box = await editor.onCanvas(first.id as string).boundingBox();
      const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
      assert.ok(
        box && chart && box.x >= chart.x && box.y >= chart.y && box.x + box.width <= chart.x + chart.width,
        `${example}: the inject is in view`,
      );
      const lefts = await page.evaluate(
        (id) => RED.nodes.filterNodes({ z: id }).map((n: FlowNode) => [n.x - n.w / 2, n.y - n.h / 2]),
        tab.id,
      );
      assert.ok(
        lefts.every(([x, y]: number[]) => x >= 0 && y >= 0),
        `${example}: nodes start inside the canvas ${JSON.stringify(lefts)}`,
      );
      editor.assertNoProblems();
    });
  }

  it('importing the round trip a second time meets the notice the README explains, and Cancel leaves one tab of that name', async () => {
    const advice = readmeImportAdvice();
    const buttons = await page.evaluate(() => [RED._('common.label.cancel'), RED._('clipboard.import.importCopy')]);
    for (const button of buttons) assert.ok(advice.includes(`_${button}_`), `the README's Quick start names the button "${button}"`);
    const conflict: string = await page.evaluate(() => RED._('clipboard.import.conflictNotification1'));
    assert.ok(advice.includes(`_${conflict.replace(/\.$/, '')}_`), "the README's Quick start quotes Node-RED's notice");
    await importThroughDialog(DEMO);
    const notice = page.locator('.red-ui-notification', { hasText: conflict });
    await notice.waitFor();
    await notice.getByRole('button', { name: buttons[1] }).waitFor();
    await notice.getByRole('button', { name: buttons[0] }).click();
    await notice.waitFor({ state: 'detached' });
    const label = tabOf(DEMO).label as string;
    const tabs = await page.evaluate(() => {
      const labels: string[] = [];
      RED.nodes.eachWorkspace((ws: { label: string }) => labels.push(ws.label));
      return labels;
    });
    assert.deepEqual(
      tabs.filter((l) => l === label),
      [label],
    );
  });

  it('after Deploy, every inject of every example pressed in a shuffled order shows its results in the debug sidebar, and no failure but the one made on purpose', async function () {
    this.timeout(240_000);
    await editor.deploy();
    const presses = shuffled(
      EXAMPLES.flatMap((example) =>
        flowOf(example)
          .filter((n) => n.type === 'inject')
          .map((inject) => ({ example, inject })),
      ),
    );
    const order = presses.map(({ example, inject }) => `${example}: ${inject.name as string}`);
    const debugSince = (from: number): Promise<DebugMessage[]> => page.evaluate((i) => window.mimoeDebug.slice(i), from);
    for (const { example, inject } of presses) {
      const flow = flowOf(example);
      const catchDebugs = flow.filter((n) => n.type === 'catch').flatMap((n) => (n.wires as string[][]).flat());
      const from: number = await page.evaluate(() => window.mimoeDebug.length);
      const pressed = await fetch(`${editor.red.url}/inject/${inject.id as string}`, { method: 'POST' });
      assert.equal(pressed.status, 200, `${example}: ${inject.name as string}`);
      const awaited = failsOnPurpose(inject) ? catchDebugs : debugNodesAfter(flow, inject);
      await page.waitForFunction(
        ([i, ids]) => (ids as string[]).every((id) => window.mimoeDebug.slice(i).some((m: DebugMessage) => m.id === id)),
        [from, awaited] as const,
        { timeout: 30_000 },
      );
      // Until the sidebar has been quiet for a moment: anything that follows counts too.
      let count = -1;
      while (count !== (await debugSince(from)).length) {
        count = (await debugSince(from)).length;
        await page.waitForTimeout(300);
      }
      const failures = (await debugSince(from)).filter((m) => m.level === 20 || catchDebugs.includes(m.id));
      if (failsOnPurpose(inject)) {
        assert.ok(failures.length > 0);
        for (const failure of failures) assert.match(failure.msg, /no-such-image/, `${example}: ${inject.name as string}`);
      } else {
        assert.deepEqual(failures, [], `${example}: ${inject.name as string} failed; order ${JSON.stringify(order)}`);
      }
    }

    // The watch example saw its own mim come and go (the removal at its next poll).
    const watchChanges = flowOf('watch').find((n) => n.type === 'mimoe-watch')!.wires[0][0] as string;
    await page.waitForFunction(
      (id) => window.mimoeDebug.filter((m: DebugMessage) => m.id === id && /api-watched/.test(m.msg)).length >= 2,
      watchChanges,
      { timeout: 10_000 },
    );

    // What the sidebar shows: the round trip's six steps by name, and the one failure as its message.
    await page.locator('#red-ui-tab-debug-link-button').click();
    const shown = page.locator('#red-ui-sidebar-content .red-ui-debug-msg');
    // Each message names its node: "node: upload".
    const names = (await page.locator('#red-ui-sidebar-content .red-ui-debug-msg-name').allInnerTexts()).map((n) =>
      n.replace(/^[^:]*: /, ''),
    );
    for (const step of ['upload', 'deploy', 'list', 'back up', 'restore', 'remove'])
      assert.ok(names.includes(step), `the sidebar shows "${step}"`);
    const errorsShown = await shown
      .filter({ has: page.locator('.red-ui-debug-msg-name', { hasText: /: error message$/ }) })
      .allInnerTexts();
    assert.ok(errorsShown.length > 0 && errorsShown.every((text) => /no-such-image/.test(text)), JSON.stringify(errorsShown));
    editor.assertNoProblems();
  });
});
