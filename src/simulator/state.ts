/**
 * The simulator's in-memory state: images, mims, data store backups and running data store
 * operations, kept per client id (the runtime scopes everything to the caller's client id).
 * Methods throw SimError(status, message) for the answers the contract (or the profile) defines.
 */
import { ErrorAnswer, ProfileRules } from './profile';
import { SimDataStoreAction, SimDataStoreResult, SimEnv, SimImage, SimMim, SimMimSpec } from './shapes';

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  static of(answer: ErrorAnswer): SimError {
    return new SimError(answer.status, answer.message);
  }
}

/** The profile's answers to a deploy that cannot be done. */
export type DeployRefusals = Pick<ProfileRules, 'unknownImage' | 'duplicateMim'>;

/** A mim as stored: `startsAt` is when a 'created' mim becomes 'started' (Infinity = never). */
interface StoredMim {
  mim: SimMim;
  startsAt?: number;
}

/** What a backup keeps: enough to show that a restore found the right one. */
interface Backup {
  mimId: string;
  env: SimEnv;
  /** Per client id, 1 for the first backup; lets tests tell backups apart. */
  seq: number;
  takenAt: string;
}

interface DataStoreOp {
  action: SimDataStoreAction;
  path: string;
  /** Polls needed to finish (0 = finished on the POST). */
  steps: number;
  polls: number;
  /** Set when the operation is finished; computed then, so a backup sees the state of that moment. */
  result?: SimDataStoreResult;
  finish: () => SimDataStoreResult;
}

interface ClientState {
  images: Map<string, SimImage>; // by name
  mims: Map<string, StoredMim>; // by id
  backups: Map<string, Backup>; // by path
  ops: Map<string, DataStoreOp>; // by mim id: the latest operation
  backupSeq: number;
}

export interface ImageUpload {
  name: string;
  repoTags: string[];
  size: number;
  digest: string;
}

const clone = <T>(value: T): T => structuredClone(value);

export class SimState {
  private readonly clients = new Map<string, ClientState>();

  reset(): void {
    this.clients.clear();
  }

  private client(clientId: string): ClientState {
    let state = this.clients.get(clientId);
    if (!state) {
      state = { images: new Map(), mims: new Map(), backups: new Map(), ops: new Map(), backupSeq: 0 };
      this.clients.set(clientId, state);
    }
    return state;
  }

  private scopes(clientId?: string): ClientState[] {
    if (clientId !== undefined) return this.clients.has(clientId) ? [this.client(clientId)] : [];
    return [...this.clients.values()];
  }

  // ---- images ----

  listImages(clientId?: string): SimImage[] {
    return this.scopes(clientId).flatMap((c) => [...c.images.values()].map(clone));
  }

  /** Adds an image, or replaces the one with the same name. */
  putImage(clientId: string, upload: ImageUpload): SimImage {
    const image: SimImage = {
      id: `${clientId}-${upload.name}`,
      name: upload.name,
      digest: upload.digest,
      repoTags: [...upload.repoTags],
      created: new Date().toISOString(),
      size: upload.size,
    };
    this.client(clientId).images.set(upload.name, image);
    return clone(image);
  }

  /** Deletes by id, or also by bare name when `byName`. */
  deleteImage(clientId: string, idOrName: string, byName: boolean): SimImage {
    const c = this.client(clientId);
    const image = [...c.images.values()].find((i) => i.id === idOrName) ?? (byName ? c.images.get(idOrName) : undefined);
    if (!image) throw new SimError(404, `image "${idOrName}" not found`);
    const user = [...c.mims.values()].find((m) => m.mim.imageId === image.id);
    if (user) throw new SimError(409, `image "${image.name}" is used by mim "${user.mim.id}"; remove the mim first`);
    c.images.delete(image.name);
    return clone(image);
  }

  // ---- mims ----

  listMims(clientId?: string): SimMim[] {
    return this.scopes(clientId).flatMap((c) => [...c.mims.values()].map((m) => clone(this.current(m))));
  }

  /** Brings a 'created' mim to 'started' once its time has come (no timers to clean up). */
  private current(stored: StoredMim): SimMim {
    if (stored.startsAt !== undefined && Date.now() >= stored.startsAt) {
      stored.mim.state = 'started';
      stored.mim.status = 'up';
      stored.startsAt = undefined;
    }
    return stored.mim;
  }

  /**
   * Deploys all specs or none: every image must exist and every name be free before any mim is
   * created. `startDelayMs` > 0 keeps new mims 'created' that long; < 0 forever.
   */
  deploy(clientId: string, specs: SimMimSpec[], startDelayMs: number, refusals: DeployRefusals): SimMim[] {
    const c = this.client(clientId);
    const seen = new Set<string>();
    const plan = specs.map((spec) => {
      const image = c.images.get(spec.image);
      if (!image) throw SimError.of(refusals.unknownImage(spec.image));
      const id = `${clientId}-${spec.name}`;
      if (c.mims.has(id)) throw SimError.of(refusals.duplicateMim(id, spec.name, false));
      if (seen.has(id)) throw SimError.of(refusals.duplicateMim(id, spec.name, true));
      seen.add(id);
      return { spec, image, id };
    });
    const now = Date.now();
    const pending = startDelayMs !== 0;
    return plan.map(({ spec, image, id }) => {
      const mim: SimMim = {
        id,
        name: spec.name,
        image: image.name,
        imageId: image.id,
        clientId,
        created: new Date(now).toISOString(),
        state: pending ? 'created' : 'started',
        status: pending ? 'pending' : 'up',
        env: { ...(spec.env ?? {}) },
      };
      const startsAt = !pending ? undefined : startDelayMs < 0 ? Infinity : now + startDelayMs;
      c.mims.set(id, { mim, startsAt });
      return clone(mim);
    });
  }

  removeMim(clientId: string, id: string): SimMim {
    const c = this.client(clientId);
    const stored = this.findMim(c, id);
    c.mims.delete(id);
    c.ops.delete(id);
    return clone(this.current(stored));
  }

  /** The mim, or a 404. */
  getMim(clientId: string, id: string): SimMim {
    return clone(this.current(this.findMim(this.client(clientId), id)));
  }

  private findMim(c: ClientState, id: string): StoredMim {
    const stored = c.mims.get(id);
    if (!stored) throw new SimError(404, `mim "${id}" not found`);
    return stored;
  }

  // ---- data store ----

  /**
   * Starts a backup or restore. With `steps` 0 it finishes at once; otherwise it answers
   * 'inProgress' and finishes on the `steps`-th status poll.
   */
  startDataStore(clientId: string, mimId: string, action: SimDataStoreAction, path: string, steps = 0): SimDataStoreResult {
    const c = this.client(clientId);
    const stored = this.findMim(c, mimId);
    const finish = action === 'backup' ? () => this.backup(c, stored.mim, path) : () => this.restore(c, stored.mim, path);
    const op: DataStoreOp = { action, path, steps: Math.max(0, Math.floor(steps)), polls: 0, finish };
    c.ops.set(mimId, op);
    if (op.steps === 0) op.result = finish();
    return clone(op.result ?? progress(op, 0));
  }

  /** The latest operation's status; each call moves an unfinished one a step on. */
  pollDataStore(clientId: string, mimId: string): SimDataStoreResult {
    const c = this.client(clientId);
    this.findMim(c, mimId);
    const op = c.ops.get(mimId);
    if (!op) throw new SimError(404, `no data store operation was started for mim "${mimId}"`);
    if (!op.result) {
      op.polls += 1;
      if (op.polls >= op.steps) op.result = op.finish();
    }
    return clone(op.result ?? progress(op, Math.round((op.polls * 100) / op.steps)));
  }

  private backup(c: ClientState, mim: SimMim, path: string): SimDataStoreResult {
    c.backupSeq += 1;
    c.backups.set(path, { mimId: mim.id, env: { ...mim.env }, seq: c.backupSeq, takenAt: new Date().toISOString() });
    const message = `backup #${c.backupSeq} of mim "${mim.id}" saved to ${path}`;
    return { action: 'backup', status: 'completed', message, path, percentage: 100 };
  }

  private restore(c: ClientState, mim: SimMim, path: string): SimDataStoreResult {
    const backup = c.backups.get(path);
    if (!backup) {
      return { action: 'restore', status: 'failed', message: `no backup found at ${path}`, path, percentage: 100 };
    }
    const message = `mim "${mim.id}" restored from ${path} (backup #${backup.seq} of mim "${backup.mimId}")`;
    return { action: 'restore', status: 'completed', message, path, percentage: 100 };
  }
}

function progress(op: DataStoreOp, percentage: number): SimDataStoreResult {
  return { action: op.action, status: 'inProgress', message: `${op.action} in progress`, path: op.path, percentage };
}
