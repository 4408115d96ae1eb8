/**
 * The browser tests' editor: a real Node-RED with this package in a fresh user directory, and
 * Debian's chromium driven by playwright-core on its editor page. Page errors, and the package's
 * console errors and failed requests, are collected as problems a test fails on. The helpers act
 * as a person does (drags and clicks with the mouse) and each waits for what it needs, never for
 * a fixed time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');

// What page.evaluate callbacks see in the browser (this project compiles without the DOM types).
declare const RED: any, document: any;

const root = join(__dirname, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
/** Node-RED catches errors of a node definition's functions and only logs them (console.log). */
const DEFINITION_ERROR = /^(oneditprepare|oneditsave|oneditcancel|oneditresize|Validation error:|Definition error:).*mimoe/;
const fromPackage = (url: string) => /mimoe/i.test(url);

type Catalog = Record<string, unknown>;

/** The catalog of a node type of the package (locales/en-US/<type>.json). */
export const catalog = (type: string): Catalog =>
  (JSON.parse(readFileSync(join(root, 'locales', 'en-US', `${type}.json`), 'utf8')) as Catalog)[type] as Catalog;

/** A text of the package's catalogs, with its __params__ filled in, as the editor shows it. */
export function text(type: string, key: string, params: Record<string, string | number> = {}): string {
  const value = key.split('.').reduce<unknown>((node, part) => (node as Catalog | undefined)?.[part], catalog(type));
  assert.equal(typeof value, 'string', `no text ${type}.${key} in the catalog`);
  return (value as string).replace(/__(\w+)__/g, (_whole, name: string) => String(params[name]));
}

export class EditorPage {
  /** Page errors and the package's console errors and failed requests: each fails the test. */
  readonly problems: string[] = [];
  /** Everything the page said, shown when a test fails. */
  private readonly consoleLines: string[] = [];

  private constructor(
    readonly red: import('../../scripts/node-red-launcher').RunningNodeRed,
    private readonly browser: Browser,
    readonly page: Page,
    private readonly userDir: string,
  ) {
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => this.problems.push(`page error: ${err.stack ?? err.message}`));
    page.on('console', (msg) => {
      const where = msg.location().url;
      this.consoleLines.push(`${msg.type()}: ${msg.text()} (${where})`);
      if ((msg.type() === 'error' && (fromPackage(where) || fromPackage(msg.text()))) || DEFINITION_ERROR.test(msg.text())) {
        this.problems.push(`console ${msg.type()}: ${msg.text()} (${where})`);
      }
    });
    page.on('requestfailed', (req) => {
      if (fromPackage(req.url())) this.problems.push(`request failed: ${req.method()} ${req.url()} ${req.failure()?.errorText ?? ''}`);
    });
    page.on('response', (res) => {
      if (res.status() >= 400 && fromPackage(res.url())) this.problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
    });
  }

  /**
   * Starts Node-RED (with `env` as its environment, if given) and a browser page of the given
   * height; the page is still blank: the test goes to `red.url` when it is ready to.
   */
  static async start(options: { env?: NodeJS.ProcessEnv; height?: number } = {}): Promise<EditorPage> {
    const userDir = mkdtempSync(join(tmpdir(), 'mimoe-e2e-'));
    launcher.linkPackage(userDir);
    const settings = launcher.writeSettings(userDir, { port: 0 });
    let red: import('../../scripts/node-red-launcher').RunningNodeRed | undefined;
    let browser: Browser | undefined;
    try {
      red = await launcher.startNodeRed({ userDir, settings, env: options.env });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
      const page = await browser.newPage({ viewport: { width: 1280, height: options.height ?? 800 }, locale: 'en-US' });
      return new EditorPage(red, browser, page, userDir);
    } catch (err) {
      // Nothing is left running when the editor cannot be opened: the test's after() has no EditorPage to stop.
      await browser?.close();
      await red?.stop();
      rmSync(userDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Opens the editor and waits until every node type of the package is loaded (Node-RED loads their files one by one). */
  async openEditor(): Promise<void> {
    await this.page.goto(this.red.url);
    await this.page.waitForFunction(
      (all) => all.every((type: string) => RED.nodes.getType(type)) && document.querySelector('#red-ui-workspace-chart svg'),
      launcher.nodeTypes,
    );
  }

  async stop(): Promise<void> {
    await this.browser.close();
    await this.red.stop();
    rmSync(this.userDir, { recursive: true, force: true });
  }

  /** For afterEach: after a failed test, prints what the browser said and the end of Node-RED's log. */
  reportFailure(test: Mocha.Test | undefined): void {
    if (test?.state !== 'failed') return;
    console.log(`--- browser console (last 40 lines)\n${this.consoleLines.slice(-40).join('\n')}`);
    console.log(`--- Node-RED log (last 3000 characters)\n${this.red.log().slice(-3000)}`);
  }

  /** No page error, and no console error or failed request from the package, so far. */
  assertNoProblems(): void {
    assert.deepEqual(this.problems, [], `the browser reported problems:\n${this.problems.join('\n')}`);
  }

  /** The ids of the nodes of a type on the workspace. */
  nodeIds(type: string): Promise<string[]> {
    return this.page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n: { id: string }) => n.id), type);
  }

  /** A node as drawn on the workspace. */
  onCanvas(id: string): Locator {
    return this.page.locator(`#red-ui-workspace-chart [id="${id}"]`);
  }

  /** The centre of an element on screen, for the mouse. */
  async centre(locator: Locator): Promise<{ x: number; y: number }> {
    const box = await locator.boundingBox();
    assert.ok(box, 'the element has no box on screen');
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  }

  /** Drags a node from the palette onto the workspace (x, y inside the visible chart); its id. */
  async dragFromPalette(type: string, x: number, y: number): Promise<string> {
    const { page } = this;
    const before = await this.nodeIds(type);
    const item = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
    await item.scrollIntoViewIfNeeded();
    const from = await this.centre(item);
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    assert.ok(chart);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + 20, from.y, { steps: 4 });
    await page.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction(([t, n]) => RED.nodes.filterNodes({ type: t }).length > n, [type, before.length] as const);
    const added = (await this.nodeIds(type)).filter((id) => !before.includes(id));
    assert.equal(added.length, 1, `one ${type} node dropped`);
    await this.onCanvas(added[0]).waitFor();
    return added[0];
  }

  /** Draws a wire with the mouse from the (first) output port of one node to the input port of another. */
  async wire(from: string, to: string): Promise<void> {
    const { page } = this;
    const start = await this.centre(this.onCanvas(from).locator('.red-ui-flow-port-output .red-ui-flow-port').first());
    const end = await this.centre(this.onCanvas(to).locator('.red-ui-flow-port-input .red-ui-flow-port'));
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move(end.x, end.y, { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction(([s, t]) => RED.nodes.filterLinks({ source: { id: s }, target: { id: t } }).length === 1, [
      from,
      to,
    ] as const);
  }

  /** Deploys the flows and waits until the editor has taken the answer. */
  async deploy(): Promise<void> {
    await this.page.locator('#red-ui-header-button-deploy').click();
    await this.page.waitForFunction(() => !RED.nodes.dirty());
    await this.page.locator('#red-ui-editor-shade').waitFor({ state: 'hidden' }); // shown while deploying
  }

  /**
   * Clicks the button of an inject node once it is deployed: by its place on screen, as
   * locator.click() would first scroll the chart to "reveal" the SVG.
   */
  async pressInject(id: string): Promise<void> {
    await this.page.waitForFunction((i) => !document.querySelector(`[id="${i}"] .red-ui-flow-node-button-disabled`), id);
    const button = await this.centre(this.onCanvas(id).locator('.red-ui-flow-node-button'));
    await this.page.mouse.click(button.x, button.y);
  }
}
