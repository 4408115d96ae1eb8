/**
 * What a new user's trial of the package found, in real flows against the simulator over HTTP:
 * a config URL that reaches a web server other than mimOE (Node-RED's own port, say) reaches
 * Catch with a sentence, not with that server's HTML page.
 */
import assert from 'node:assert/strict';
import { helper, loadActionFlow, run, StatusCall, statuses } from '../support/nodes';
import { useSimulator } from '../support/simulator-fixture';
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
});
