/**
 * The message catalogs hold a text for every error the client can raise and every input rule,
 * matching the client's own English, and every node's statuses: no user sees a bare key.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INVALID_INPUT_TEXT, InvalidInputRule, McmErrorCode } from '../../src/mcm/errors';
import { FLEET_ERROR_TEXT } from '../../src/mcm/fleet';
import { NODE_TYPES } from '../support/nodes';

const locales = join(__dirname, '..', '..', '..', 'locales', 'en-US');
/** Config nodes have no status and no msgs. */
const CONFIG_NODES = ['mimoe-config', 'mimoe-fleet'];
const catalog = (type: string) => JSON.parse(readFileSync(join(locales, `${type}.json`), 'utf8')) as Record<string, any>;

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

  it('have the same text as the fleet client for every fleet error', () => {
    const fleet = catalog('mimoe-fleet')['mimoe-fleet'];
    for (const [code, text] of Object.entries(FLEET_ERROR_TEXT)) assert.equal(fleet.errors[code], text, `mimoe-fleet.errors.${code}`);
  });
});
