/**
 * Backup and restore differ only in the action: one definition serves both nodes. A result the
 * runtime did not call `completed` (still `inProgress` with no way to follow it, or `accepted`:
 * answered without a status) is sent on with a yellow ring, never shown as done.
 */
import type { DataStoreAction, DataStoreResult } from '../../mcm/models';
import { registerAction } from './action';
import { fromPayload } from './inputs';
import { RED } from './runtime';

export function registerDataStoreNode(RED: RED, type: string, action: DataStoreAction): void {
  const expected = { operation: action === 'backup' ? 'backupDataStore' : 'restoreDataStore', shape: '{mimId, path}' } as const;
  registerAction(RED, {
    type,
    async run(ctx) {
      const mimId = await ctx.input('mimId', fromPayload('mimId', expected));
      const path = await ctx.input('path', fromPayload('path', expected));
      const options = {
        ...ctx.call,
        onProgress: (result: DataStoreResult) => ctx.progress(ctx.t('status.progress', { percentage: result.percentage })),
      };
      return action === 'backup'
        ? ctx.client.backupDataStore(mimId as string, path as string, options)
        : ctx.client.restoreDataStore(mimId as string, path as string, options);
    },
    summary: (result, ctx) => ctx.t('status.done', { path: (result as DataStoreResult).path }),
    warning(payload, ctx) {
      const result = payload as DataStoreResult;
      if (result.status === 'inProgress') return ctx.t('status.unfollowed', { percentage: result.percentage });
      if (result.status === 'accepted') return ctx.t('status.accepted');
      return undefined;
    },
  });
}
