/** mimoe-remove: removes a mim or deletes an image by id; msg.payload becomes {id, resource, removed: true}. */
import { checkId } from '../mcm/validate';
import type { ResourceKind } from '../mcm/models';
import { registerAction } from './shared/action';
import { idFromPayload } from './shared/inputs';
import { RED } from './shared/runtime';

export = function (RED: RED) {
  registerAction(RED, {
    type: 'mimoe-remove',
    async run(ctx) {
      const resource: ResourceKind = ctx.config.resource === 'image' ? 'image' : 'mim';
      const operation = resource === 'image' ? 'deleteImage' : 'removeMim';
      const id = checkId(operation, await ctx.input('target', idFromPayload));
      ctx.progress(() => ctx.t('status.removing', { id }));
      if (resource === 'image') await ctx.client.deleteImage(id, ctx.call);
      else await ctx.client.removeMim(id, ctx.call);
      return { id, resource, removed: true };
    },
    summary: (result, ctx) => ctx.t('status.removed', { id: (result as { id: string }).id }),
  });
};
