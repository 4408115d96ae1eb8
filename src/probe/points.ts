/**
 * The checkable points of the MCM wire contract (docs/mcm-api.md gives each one's evidence, what
 * the client does about it and what each simulator profile answers), and the conformance table
 * the probe fills in: one row per point, in this order.
 */

export interface Point {
  /** Stable id, the same as in docs/mcm-api.md. */
  id: string;
  /** What the written contract says, in a few words. */
  documented: string;
}

export const POINTS: readonly Point[] = [
  { id: 'auth.wrong-key', documented: 'a wrong key answers 403' },
  { id: 'auth.missing-key', documented: 'a missing key answers 403' },
  { id: 'error.shape', documented: 'error bodies are {"error":{"code","message"}}' },
  { id: 'path.unmounted', documented: 'an unknown path under /mcm/v1 answers 404 with an error body' },
  { id: 'path.containers', documented: '/mcm/v1/containers lists the mims as /mims does' },
  { id: 'list.wrapped', documented: 'lists answer {"data":[...]}' },
  { id: 'create.body', documented: 'upload and deploy answer 2xx with the created object' },
  { id: 'upload.answer-delay', documented: 'an upload is answered within 2 s of its last byte' },
  { id: 'image.name-from-tar', documented: 'the image name is the repository inside the tar' },
  { id: 'image.id-shape', documented: 'an image id is <clientId>-<imageName>' },
  { id: 'created.type', documented: '`created` is an ISO 8601 string' },
  { id: 'mim.id-shape', documented: 'a mim id is <clientId>-<name>' },
  { id: 'mim.env-shape', documented: '`env` is an object of strings' },
  { id: 'mim.start', documented: 'a deployed mim reaches state "started"' },
  { id: 'clientid.scope', documented: 'another x-client-id does not see the mim' },
  { id: 'mim.duplicate', documented: 'deploying a name already deployed answers 409' },
  { id: 'deploy.unknown-image', documented: 'deploying an unknown image answers 404' },
  { id: 'datastore.backup', documented: 'a backup completes' },
  { id: 'datastore.follow-up', documented: 'GET .../dataStore answers the latest DataStoreResult' },
  { id: 'datastore.restore', documented: 'a restore from that backup completes' },
  { id: 'datastore.restore-missing', documented: 'a restore from a path without a backup says "failed"' },
  { id: 'composition.answer', documented: 'a composition answers its list of Mims' },
  { id: 'upload.chunked', documented: 'a chunked upload (no Content-Length) is accepted' },
  { id: 'upload.expect', documented: 'an upload with Expect: 100-continue answers 417' },
  { id: 'image.delete-in-use', documented: 'deleting an image a mim uses answers 409' },
  { id: 'mim.remove-unknown', documented: 'removing a mim that is gone answers 404' },
  { id: 'image.delete-by-name', documented: 'DELETE /images/<bare name> deletes the image' },
];

export type Verdict = 'as documented' | 'differs' | 'not observed';

export interface TableRow {
  id: string;
  verdict: Verdict;
  /** What was seen (for `not observed`: why not). Built from answers only, so a replay sees the same. */
  seen: string;
}

/** The verdicts as the steps find them; a point nothing looked at stays `not observed`. */
export class Findings {
  private readonly found = new Map<string, { verdict: Verdict; seen: string }>();

  constructor(private readonly unobserved = 'the probe did not get this far') {}

  asDocumented(id: string, seen: string): void {
    this.set(id, 'as documented', seen);
  }

  differs(id: string, seen: string): void {
    this.set(id, 'differs', seen);
  }

  notObserved(id: string, why: string): void {
    this.set(id, 'not observed', why);
  }

  /** `documented` decides between the first two verdicts. */
  judge(id: string, documented: boolean, seen: string): void {
    this.set(id, documented ? 'as documented' : 'differs', seen);
  }

  has(id: string): boolean {
    return this.found.has(id);
  }

  rows(unobserved = this.unobserved): TableRow[] {
    return POINTS.map(({ id }) => ({ id, ...(this.found.get(id) ?? { verdict: 'not observed' as const, seen: unobserved }) }));
  }

  private set(id: string, verdict: Verdict, seen: string): void {
    if (!POINTS.some((point) => point.id === id)) throw new Error(`unknown conformance point ${id}`);
    this.found.set(id, { verdict, seen });
  }
}

/** The table as text, one row per point. */
export function renderTable(rows: TableRow[]): string {
  const header = { id: 'point', verdict: 'verdict', seen: 'seen' };
  const idWidth = Math.max(header.id.length, ...rows.map((row) => row.id.length));
  const verdictWidth = Math.max(header.verdict.length, ...rows.map((row) => row.verdict.length));
  const line = (row: { id: string; verdict: string; seen: string }): string =>
    `${row.id.padEnd(idWidth)}  ${row.verdict.padEnd(verdictWidth)}  ${row.seen}`.trimEnd();
  const counts = (['as documented', 'differs', 'not observed'] as const).map((v) => `${rows.filter((r) => r.verdict === v).length} ${v}`);
  return [
    line(header),
    line({ id: '-'.repeat(idWidth), verdict: '-'.repeat(verdictWidth), seen: '----' }),
    ...rows.map(line),
    '',
    counts.join(', '),
  ].join('\n');
}
