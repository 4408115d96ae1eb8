/**
 * The message catalogs hold a text for every error the client can raise and every input rule,
 * matching the client's own English, and every node's statuses: no user sees a bare key.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { INVALID_INPUT_TEXT, InvalidInputRule, McmErrorCode } from '../../src/mcm/errors';
import { FLEET_ERROR_TEXT } from '../../src/mcm/fleet';
import { NODE_TYPES } from '../support/nodes';

const locales = join(__dirname, '..', '..', '..', 'locales', 'en-US');
/** Config nodes have no status and no msgs. */
const CONFIG_NODES = ['mimoe-config', 'mimoe-fleet'];
const catalog = (type: string) => JSON.parse(readFileSync(join(locales, `${type}.json`), 'utf8')) as Record<string, any>;
const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');

/** A name as the test compares it: a label may start a sentence in a text, and may wrap. */
const normal = (name: string) => name.replace(/\s+/g, ' ').trim().toLowerCase();

/** The names a node's dialog shows: its field labels (and the config dialogs' section and button). */
function dialogNames(type: string): Set<string> {
  const own = catalog(type)[type];
  const buttons = Object.values(own as Record<string, { button?: unknown }>).flatMap((section) =>
    typeof section === 'object' && typeof section.button === 'string' ? [section.button] : [],
  );
  return new Set([...Object.values(own.label as Record<string, string>), ...buttons].map(normal));
}

/** Node-RED's core nodes: the folder of their editor files, and its English catalog. */
function coreNodes(): { html: string[]; messages: Record<string, unknown> } {
  const nodeRed = dirname(require.resolve(process.env.NODE_RED_PATH ?? 'node-red'));
  const coreDir = join(dirname(require.resolve('@node-red/nodes/package.json', { paths: [nodeRed] })), 'core');
  const html = readdirSync(coreDir).flatMap((dir) =>
    readdirSync(join(coreDir, dir))
      .filter((file) => file.endsWith('.html'))
      .map((file) => readFileSync(join(coreDir, dir, file), 'utf8')),
  );
  return { html, messages: JSON.parse(readFileSync(join(coreDir, '..', 'locales', 'en-US', 'messages.json'), 'utf8')) };
}

const coreTypes = (html: string[]) => html.flatMap((text) => [...text.matchAll(/registerType\(\s*["']([^"']+)["']/g)].map((m) => m[1]));

/** Node names a text may refer to: the palette labels of this package and the types and labels of Node-RED's core nodes. */
function nodeNames(): Set<string> {
  const { html, messages } = coreNodes();
  const names = [...NODE_TYPES.map((type) => catalog(type)[type].paletteLabel as string), ...coreTypes(html)];
  for (const text of html) {
    names.push(...[...text.matchAll(/paletteLabel:\s*["']([^"']+)["']/g)].map((m) => m[1]));
    for (const [, key] of text.matchAll(/paletteLabel:\s*RED\._\(["']node-red:([\w.]+)["']\)/g)) {
      const label = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], messages);
      if (typeof label === 'string') names.push(label);
    }
  }
  return new Set(names.map(normal));
}

/** The text of a help page's section (an h3 to the next), tags and all. */
function helpSection(help: string, heading: string): string {
  return new RegExp(`<h3>${heading}</h3>([\\s\\S]*?)(?=<h3>|$)`).exec(help)?.[1] ?? '';
}

/** README sections that describe a node's dialog, and the node types whose labels they use. */
const README_SECTIONS: Record<string, string[]> = {
  '## Using a real mimOE': ['mimoe-config'],
  '### mimoe-deploy': ['mimoe-deploy'],
  '### mimoe-remove': ['mimoe-remove'],
  '### mimoe-list': ['mimoe-list'],
  '### mimoe-upload': ['mimoe-upload'],
  '### mimoe-composition': ['mimoe-composition'],
  '### mimoe-backup and mimoe-restore': ['mimoe-backup', 'mimoe-restore'],
  '### mimoe-watch': ['mimoe-watch'],
  '### mimoe-fleet': ['mimoe-fleet'],
  '### mimoe-rollout': ['mimoe-rollout'],
};

function readmeSection(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has the section ${heading}`);
  const rest = readme.slice(start + heading.length + 2);
  return rest.slice(0, rest.search(/\n#{2,3} /) >= 0 ? rest.search(/\n#{2,3} /) : undefined);
}

/** The field names a README section uses: its "field" tables' first column, and its _italic_ words. */
function readmeFieldNames(section: string): string[] {
  const names: string[] = [];
  let inFieldTable = false;
  for (const line of section.split('\n')) {
    const first = /^\|\s*([^|]*?)\s*\|/.exec(line)?.[1];
    if (first === undefined) inFieldTable = false;
    else if (first === 'field') inFieldTable = true;
    else if (inFieldTable && !/^-+$/.test(first)) names.push(...first.split(', '));
  }
  // Outside code spans: an underscore in `MCM_API_KEY` is not markup.
  const prose = section.replace(/`[^`]*`/g, '``');
  names.push(...[...prose.matchAll(/(?<![\w`])_([^_\s](?:[^_]*[^_\s])?)_(?![\w`])/g)].map((m) => m[1]));
  return names;
}

// A Record over the union: the compiler fails this file when a code is added without a text here.
const CODES: Record<McmErrorCode, true> = {
  'invalid-input': true,
  http: true,
  timeout: true,
  unreachable: true,
  connection: true,
  tls: true,
  'bad-response': true,
  'operation-failed': true,
  'not-started': true,
  aborted: true,
  'no-api': true,
  'too-large': true,
};

describe('message catalogs', () => {
  const shared = catalog('mimoe-config').mimoe;

  it('have an error text and a status for every client error code', () => {
    for (const code of Object.keys(CODES)) {
      assert.equal(typeof shared.errors[code], 'string', `mimoe.errors.${code}`);
      assert.match(shared.errors[code], /__operation__/, `mimoe.errors.${code} names the operation`);
      if (code !== 'http') assert.equal(typeof shared.status[code], 'string', `mimoe.status.${code}`);
    }
  });

  it("have an editor text for every client error code, in the dialog user's words", () => {
    const admin = catalog('mimoe-config')['mimoe-config'].admin;
    // invalid-input shows the rule's own text (mimoe.invalid).
    for (const code of Object.keys(CODES).filter((c) => c !== 'invalid-input')) {
      assert.equal(typeof admin.failure[code], 'string', `mimoe-config.admin.failure.${code}`);
    }
    const texts = (node: unknown): string[] =>
      typeof node === 'string' ? [node] : Object.values(node as Record<string, unknown>).flatMap(texts);
    for (const text of texts(admin)) assert.doesNotMatch(text, /__operation__|failed:/, text);
  });

  it('have the same text as the client for every input rule', () => {
    for (const [rule, text] of Object.entries(INVALID_INPUT_TEXT)) {
      assert.equal(shared.invalid[rule as InvalidInputRule], text, `mimoe.invalid.${rule}`);
    }
    assert.deepEqual(Object.keys(shared.invalid).sort(), Object.keys(INVALID_INPUT_TEXT).sort());
  });

  it('give every node a palette label, a working status and sidebar help', () => {
    for (const type of NODE_TYPES) {
      const own = catalog(type)[type];
      assert.ok(own, `${type} has its own section`);
      assert.equal(typeof own.paletteLabel, 'string', `${type}.paletteLabel`);
      if (!CONFIG_NODES.includes(type)) assert.equal(typeof own.status.working, 'string', `${type}.status.working`);
      const help = readFileSync(join(locales, `${type}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${type}"`));
      // Config nodes have no msgs, and mimoe-watch no input.
      const headings = CONFIG_NODES.includes(type)
        ? ['Properties', 'Details', 'References']
        : type === 'mimoe-watch'
          ? ['Outputs', 'Details', 'References']
          : ['Inputs', 'Outputs', 'Details', 'References'];
      for (const heading of headings) assert.match(help, new RegExp(`<h3>${heading}</h3>`), `${type} help: ${heading}`);
    }
  });

  it('name every field as its dialog does, in the help pages and the README', () => {
    const nodes = nodeNames();
    const mismatches: string[] = [];
    for (const type of NODE_TYPES) {
      const help = readFileSync(join(locales, `${type}.html`), 'utf8');
      const dialog = dialogNames(type);
      const named = [...help.matchAll(/<b>([^<]+)<\/b>/g)].map((m) => m[1]);
      // The config nodes' help lists the dialog's fields as a definition list.
      if (CONFIG_NODES.includes(type)) {
        for (const heading of ['Properties', 'Slow links']) {
          const terms = [...helpSection(help, heading).matchAll(/<dt[^>]*>([^<]+?)\s*(?:<span|<\/dt>)/g)].map((m) => m[1]);
          assert.ok(terms.length > 0, `${type} help: ${heading} lists fields`);
          named.push(...terms.flatMap((term) => term.split(', ')));
        }
      }
      for (const name of named) if (!dialog.has(normal(name)) && !nodes.has(normal(name))) mismatches.push(`${type} help: "${name}"`);
    }
    for (const [heading, types] of Object.entries(README_SECTIONS)) {
      const dialog = new Set(types.flatMap((type) => [...dialogNames(type)]));
      const names = readmeFieldNames(readmeSection(heading));
      assert.ok(names.length > 0, `README ${heading} names fields`);
      for (const name of names) if (!dialog.has(normal(name)) && !nodes.has(normal(name))) mismatches.push(`README ${heading}: "${name}"`);
    }
    assert.deepEqual(mismatches, [], 'names that are not the dialog labels of their node');
  });

  it('give no node a palette label of a core node', () => {
    const core = new Set(coreTypes(coreNodes().html).map(normal));
    assert.ok(core.has('watch') && core.has('change'), 'the core node types are read');
    for (const type of NODE_TYPES)
      assert.ok(!core.has(normal(catalog(type)[type].paletteLabel)), `${type}: ${catalog(type)[type].paletteLabel}`);
  });

  it('have the same text as the fleet client for every fleet error', () => {
    const fleet = catalog('mimoe-fleet')['mimoe-fleet'];
    for (const [code, text] of Object.entries(FLEET_ERROR_TEXT)) assert.equal(fleet.errors[code], text, `mimoe-fleet.errors.${code}`);
  });
});
