/**
 * What a new user's trial of the package found, in real flows against the simulator over HTTP:
 * a config URL that reaches a web server other than mimOE (Node-RED's own port, say) reaches
 * Catch with a sentence, not with that server's HTML page; env values that are numbers or booleans
 * are sent as their text, as the deploy help says; a field set to an environment variable that is
 * not set fails naming the variable and the field, before any request; a remove given a name
 * instead of an id is told what an id looks like; each example's Comment says where its config node
 * belongs as the flow has it; a required name, image or id that is missing says where to set it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { helper, loadActionFlow, run, StatusCall, statuses } from '../support/nodes';
import { useSimulator, useSimulatorWithImages } from '../support/simulator-fixture';
import { waitFor } from '../support/simulator-helpers';

const last = (seen: StatusCall[]) => seen[seen.length - 1];
const PAGE =
  '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET /mcm/v1/mims</pre>\n</body>\n</html>';

describe('trial findings in flows', function () {
  const sim = useSimulator();
  afterEach(() => helper.unload());

  describe('an HTTP error answered with a web page', () => {
    for (const [label, headers] of [
      ['text/html', { 'Content-Type': 'text/html; charset=utf-8' }],
      ['no content type', {}],
    ] as const) {
      it(`(${label}) reaches Catch saying the URL reaches something else, without the page's markup`, async () => {
        sim().setFault('listMims', { status: 404, body: PAGE, headers });
        await loadActionFlow(sim(), { type: 'mimoe-list' });
        const seen = statuses('n1');
        const { kind, msg } = await run({});
        assert.equal(kind, 'caught');
        assert.match(
          msg.error.message,
          /^listMims failed: HTTP 404 \(a \S+ page, not an answer of a mimOE Compute Manager\): check the URL/,
        );
        assert.doesNotMatch(msg.error.message, /<|Cannot GET/);
        assert.equal(msg.statusCode, 404);
        await waitFor(() => last(seen)?.fill === 'red', 'the red status', 3000);
        assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'wrong URL?' });
      });
    }

    it('a plain-text error keeps the runtime’s own words', async () => {
      sim().setFault('listMims', { status: 404, body: '404 page not found', headers: { 'Content-Type': 'text/plain' } });
      await loadActionFlow(sim(), { type: 'mimoe-list' });
      const seen = statuses('n1');
      const { kind, msg } = await run({});
      assert.equal(kind, 'caught');
      assert.equal(msg.error.message, 'listMims failed: HTTP 404 404 page not found');
      await waitFor(() => last(seen)?.fill === 'red', 'the red status', 3000);
      assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'HTTP 404' });
    });
  });

  describe('env values in msg.payload.env', () => {
    const withImage = useSimulatorWithImages(['hello-v1']);

    it('a number or a boolean is sent as its text, and the deploy help says so', async () => {
      await loadActionFlow(withImage(), { type: 'mimoe-deploy' });
      const { kind, msg } = await run({ payload: { name: 'web', image: 'hello-v1', env: { PORT: 8080, VERBOSE: true } } });
      assert.equal(kind, 'sent');
      assert.deepEqual(msg.payload.env, { PORT: '8080', VERBOSE: 'true' });
      assert.deepEqual((withImage().requests('deployMim')[0].body as { env: unknown }).env, { PORT: '8080', VERBOSE: 'true' });
      const help = readFileSync(join(__dirname, '..', '..', '..', 'locales', 'en-US', 'mimoe-deploy.html'), 'utf8').replace(/\s+/g, ' ');
      assert.doesNotMatch(help, /string values only|not <code>true<\/code>/);
      assert.match(help, /a number or a boolean is sent as its text \(<code>8080<\/code> as <code>"8080"<\/code>\)/);
    });
  });

  it("the README's steps for a fleet on a new tab name the dialog's own labels", () => {
    const root = join(__dirname, '..', '..', '..');
    const readme = readFileSync(join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const steps = /A `mimoe-rollout` needs a fleet.*?`npm start` set up\./.exec(readme)?.[0];
    assert.ok(steps, "the README's Quick start says how to give a rollout a fleet");
    const labels = (type: string) =>
      (
        JSON.parse(readFileSync(join(root, 'locales', 'en-US', `${type}.json`), 'utf8')) as Record<
          string,
          { label: Record<string, string> }
        >
      )[type].label;
    const fleet = labels('mimoe-fleet');
    for (const label of [fleet.seedUrl, fleet.keyFile, fleet.localKeyFile, labels('mimoe-rollout').fleet]) {
      assert.ok(steps.includes(`_${label}_`), `the steps name "${label}"`);
    }
    assert.ok(fleet.discover.startsWith(/_(discover[^_]*)_/.exec(steps)![1]), 'the discovery checkbox as the dialog names it');
    for (const variable of ['${MIMOE_FLEET_SEED}', '${MIMOE_KEY_FILE}']) assert.ok(steps.includes(variable));
  });

  describe('a field set to an environment variable', () => {
    const withImage = useSimulatorWithImages(['hello-v1']);
    const UNSET = 'MIMOE_TRIAL_NOT_SET';
    afterEach(() => {
      delete process.env[UNSET];
    });

    it('that is not set: the upload fails naming the variable and the Image file field, and sends nothing', async () => {
      delete process.env[UNSET];
      await loadActionFlow(withImage(), { type: 'mimoe-upload', filename: UNSET, filenameType: 'env' });
      const seen = statuses('n1');
      const uploads = withImage().requests('uploadImage').length;
      const { kind, msg } = await run({ payload: 'ignored' });
      assert.equal(kind, 'caught');
      assert.equal(
        msg.error.message,
        `the environment variable ${UNSET} is not set, or is empty: this node's Image file reads it; set it in Node-RED's environment, or change Image file`,
      );
      assert.equal(msg.error.code, 'MCM_INVALID_INPUT');
      await waitFor(() => last(seen)?.fill === 'red', 'the red status', 3000);
      assert.deepEqual(last(seen), { fill: 'red', shape: 'ring', text: 'invalid input' });
      assert.equal(withImage().requests('uploadImage').length, uploads, 'no upload sent');
    });

    it('that is empty: the deploy fails naming the Mim name field; once set, it deploys', async () => {
      process.env[UNSET] = '';
      await loadActionFlow(withImage(), { type: 'mimoe-deploy', mimName: UNSET, mimNameType: 'env', image: 'hello-v1', imageType: 'str' });
      const failed = await run({ payload: {} });
      assert.equal(failed.kind, 'caught');
      assert.match(
        failed.msg.error.message,
        new RegExp(`^the environment variable ${UNSET} is not set, or is empty: this node's Mim name reads it`),
      );
      assert.equal(withImage().requests('deployMim').length, 0);
      process.env[UNSET] = 'from-env';
      const sent = await run({ payload: {} });
      assert.equal(sent.kind, 'sent');
      assert.equal(sent.msg.payload.name, 'from-env');
    });
  });

  describe('a remove given a name, not an id', () => {
    const withImage = useSimulatorWithImages(['hello-v1']);

    for (const [resource, operation, name] of [
      ['mim', 'removeMim', 'hello'],
      ['image', 'deleteImage', 'no-such-image'],
    ] as const) {
      it(`(${resource}) reaches Catch with the runtime's 404 and what an id looks like`, async () => {
        await loadActionFlow(withImage(), { type: 'mimoe-remove', resource, target: '', targetType: 'str' });
        const { kind, msg } = await run({ payload: name });
        assert.equal(kind, 'caught');
        assert.equal(msg.statusCode, 404);
        assert.match(
          msg.error.message,
          new RegExp(
            `^${operation} failed: HTTP 404 .*${name}.*; an id is <client id>-<name>, e\\.g\\. api-hello, not the name: a list node shows each one's id$`,
          ),
        );
      });
    }

    it('other failures of a remove get no such hint', async () => {
      withImage().setFault('removeMim', { status: 500, body: 'disk full' });
      await loadActionFlow(withImage(), { type: 'mimoe-remove', resource: 'mim', target: '', targetType: 'str' });
      const { kind, msg } = await run({ payload: 'api-hello' });
      assert.equal(kind, 'caught');
      assert.doesNotMatch(msg.error.message, /an id is/);
    });
  });

  it("each example's Comment says its config node belongs to its own flow only when it does (the demo's belongs to every flow)", () => {
    const dir = join(__dirname, '..', '..', '..', 'examples');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const flow = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Array<Record<string, string | undefined>>;
      const config = flow.find((n) => n.type === 'mimoe-config' || n.type === 'mimoe-fleet')!;
      const says = flow.filter((n) => n.type === 'comment').some((n) => /belongs to this flow/.test(n.info ?? ''));
      assert.equal(says, config.z !== undefined, `${file}: the comment and the config node's scope agree`);
    }
  });

  describe('a required input that is missing says where to set it', () => {
    const cases = [
      {
        node: { type: 'mimoe-deploy' },
        payload: { mimName: 'typo', image: 'hello-v1' },
        message:
          "deployMim: a mim name is required (it comes from the node's Mim name, or from name in msg.payload when Mim name is blank)",
      },
      {
        node: { type: 'mimoe-deploy', mimName: 'web', mimNameType: 'str' },
        payload: {},
        message: "deployMim: an image name is required (it comes from the node's Image, or from image in msg.payload when Image is blank)",
      },
      {
        node: { type: 'mimoe-remove', resource: 'image' },
        payload: { name: 'hello-v1' },
        message:
          "deleteImage: an id is required (it comes from the node's Id, or from msg.payload when Id is blank: the id, or an object {id})",
      },
    ];
    for (const { node, payload, message } of cases) {
      it(message, async () => {
        await loadActionFlow(sim(), node);
        const { kind, msg } = await run({ payload });
        assert.equal(kind, 'caught');
        assert.equal(msg.error.message, message);
        assert.equal(sim().requests().length, 0, 'nothing sent');
      });
    }

    it('a composition spec without a name keeps the rule alone (its mims have no node fields)', async () => {
      await loadActionFlow(sim(), { type: 'mimoe-composition', specs: '', specsType: 'json' });
      const { kind, msg } = await run({ payload: [{ image: 'hello-v1' }] });
      assert.equal(kind, 'caught');
      assert.equal(msg.error.message, 'deployComposition: a mim name is required');
    });
  });
});
