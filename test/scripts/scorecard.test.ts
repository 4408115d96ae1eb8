/**
 * The scorecard's verdict (scripts/scorecard.js): every check's state is printed, and the exit
 * status fails on every check but D03 ("dependencies at their latest version"), which turns red
 * when someone else publishes a release. Offline: the verdict is the wrapper's own code, fed with
 * scorecards as node-red-dev writes them.
 */
import assert from 'node:assert/strict';

interface Verdict {
  lines: string[];
  failures: string[];
  advisories: string[];
  exitCode: number;
}
type Score = Record<string, { test: boolean; [detail: string]: unknown }>;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const scorecard = require('../../../scripts/scorecard.js') as {
  CHECKS: Record<string, string>;
  verdict(score: Score, run: { code: number | null; blocked: string[] }): Verdict;
};

const passing = (): Score => Object.fromEntries(Object.keys(scorecard.CHECKS).map((id) => [id, { test: true }]));
const clean = { code: 0, blocked: [] };

describe('the scorecard verdict (scripts/scorecard.js)', () => {
  it('passes when every check passes', () => {
    const result = scorecard.verdict(passing(), clean);
    assert.equal(result.exitCode, 0);
    assert.equal(result.lines.filter((line) => line.startsWith('PASS')).length, Object.keys(scorecard.CHECKS).length);
    assert.match(result.lines.at(-1)!, /^scorecard: all 13\/13 checks pass$/);
  });

  it('shows an outdated dependency (D03) as failing, and still passes', () => {
    const score = { ...passing(), D03: { test: false, packages: ['axios'] } };
    const result = scorecard.verdict(score, clean);
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.advisories, ['D03']);
    assert.ok(
      result.lines.includes(
        'FAIL  D03  runtime dependencies are at their latest version  [packages=axios]  (advisory: does not fail the run)',
      ),
      result.lines.join('\n'),
    );
    assert.equal(result.lines.at(-1), 'scorecard: 12/13 checks pass; advisory, not failing the run: D03');
  });

  it('fails on every other check, failed or not run, with D03 failing beside it or not', () => {
    for (const id of Object.keys(scorecard.CHECKS).filter((check) => check !== 'D03')) {
      for (const d03 of [true, false]) {
        const failed = { ...passing(), D03: { test: d03 }, [id]: { test: false } };
        const result = scorecard.verdict(failed, clean);
        assert.equal(result.exitCode, 1, `${id} failed, D03 ${d03}`);
        assert.deepEqual(result.failures, [id]);
        assert.match(result.lines.at(-1)!, new RegExp(`^scorecard: FAILED ${id} `));
        const notRun = passing();
        delete notRun[id];
        assert.equal(scorecard.verdict(notRun, clean).exitCode, 1, `${id} not run`);
      }
    }
  });

  it('fails when node-red-dev exits with an error or tries a host outside the allow-list', () => {
    assert.deepEqual(scorecard.verdict(passing(), { code: 1, blocked: [] }).failures, ['EXIT']);
    assert.equal(scorecard.verdict(passing(), { code: 1, blocked: [] }).exitCode, 1);
    assert.deepEqual(scorecard.verdict(passing(), { code: 0, blocked: ['example.org'] }).failures, ['NET']);
  });
});
