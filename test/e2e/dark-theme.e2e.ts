/**
 * The demo in a dark editor theme: a real Node-RED set up as `npm start` sets it up (the round
 * trip as its flow, the MCM simulator), with `editorTheme.theme: 'dark'` from
 * @node-red-contrib-themes/theme-collection, a development dependency. Node-RED finds that plugin
 * package as it finds node packages: it scans the node_modules folders above its own install,
 * which hold this project's dependencies (a user installs the theme into ~/.node-red instead).
 * The test presses the demo's inject, waits for the six results in the debug sidebar, checks the
 * editor is dark, and takes the screenshot docs/dark-theme.png: into docs/ when
 * MIMOE_DOCS_SCREENSHOTS is set (`npm run docs:screenshots`), else into a temporary folder, so a test run leaves the committed
 * picture as it is.
 *
 * Run by `npm run test:e2e`; not part of the main mocha run.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmSimulator } from '../../src/simulator';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');

// What page.evaluate callbacks see in the browser (this project compiles without the DOM types).
declare const RED: any, document: any, getComputedStyle: any;

const root = join(__dirname, '..', '..', '..');
const THEME = 'dark';
const STEPS = ['upload', 'deploy', 'list', 'back up', 'restore', 'remove'];

/** The relative luminance (0 black, 1 white) of a CSS rgb()/rgba() colour. */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => Number(v) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

describe('the demo in a dark theme (chromium)', function () {
  this.timeout(180_000);
  const userDir = mkdtempSync(join(tmpdir(), 'mimoe-e2e-dark-'));
  const shots = process.env.MIMOE_DOCS_SCREENSHOTS ? join(root, 'docs') : userDir;
  let sim: McmSimulator;
  let red: import('../../scripts/node-red-launcher').RunningNodeRed;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(120_000);
    const keyFile = join(userDir, 'mimoe-api-key.env');
    sim = await McmSimulator.start({ quiet: true, keyFile });
    const tar = join(userDir, 'hello-v1.tar');
    writeFileSync(tar, buildImageTar({ name: 'hello-v1' }));
    launcher.linkPackage(userDir);
    copyFileSync(join(root, 'examples', 'round-trip.json'), join(userDir, 'flows.json'));
    // The launcher's settings with the theme added (a later key of an object literal wins).
    const settings = launcher.writeSettings(userDir, {
      port: 0,
      extra: `editorTheme: { theme: '${THEME}', palette: { catalogues: [] }, tours: false, projects: { enabled: false } },`,
    });
    red = await launcher.startNodeRed({
      userDir,
      settings,
      env: { ...process.env, MIMOE_URL: sim.url, MIMOE_KEY_FILE: keyFile, MIMOE_DEMO_TAR: tar },
    });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      headless: true,
    });
    page = await browser.newPage({ viewport: { width: 1920, height: 870 }, locale: 'en-US' });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    await sim?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('shows the round trip and its six results in the debug sidebar, on a dark editor', async () => {
    await page.goto(red.url);
    await page.locator('#red-ui-palette-header-mimOE').waitFor();
    await page.waitForFunction(() => RED.nodes.workspace('tab-roundtrip'));

    const background = await page.evaluate(
      () => getComputedStyle(document.querySelector('#red-ui-workspace-chart')).backgroundColor as string,
    );
    assert.ok(luminance(background) < 0.25, `the workspace is dark: ${background}`);
    const plain = await page.evaluate(() => getComputedStyle(document.querySelector('#red-ui-palette')).backgroundColor as string);
    assert.ok(luminance(plain) < 0.25, `the palette is dark: ${plain}`);

    const inject = await page.evaluate(() => RED.nodes.filterNodes({ z: 'tab-roundtrip', type: 'inject' })[0].id as string);
    const button = page.locator(`#red-ui-workspace-chart [id="${inject}"] .red-ui-flow-node-button`);
    await page.locator('#red-ui-tab-debug-link-button').click();
    // By its place on screen: locator.click() would scroll the chart first.
    const box = await button.boundingBox();
    assert.ok(box, 'the inject button is on screen');
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const names = page.locator('#red-ui-sidebar-content .red-ui-debug-msg-name');
    await page.waitForFunction(
      (count) => document.querySelectorAll('#red-ui-sidebar-content .red-ui-debug-msg').length >= count,
      STEPS.length,
    );
    assert.deepEqual(
      (await names.allInnerTexts()).map((n) => n.replace(/^[^:]*: /, '')),
      STEPS,
    );
    // Each step's status turns green once its answer is in.
    await page.waitForFunction(
      (count) => document.querySelectorAll('#red-ui-workspace-chart .red-ui-flow-node-status-dot-green').length >= count,
      STEPS.length,
    );
    assert.equal(await page.locator('#red-ui-workspace-chart .red-ui-flow-node-status-dot-blue').count(), 0);
    assert.deepEqual(pageErrors, []);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(shots, 'dark-theme.png'), style: '.red-ui-notification { display: none !important; }' });
  });
});
