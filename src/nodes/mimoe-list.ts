/** mimoe-list: lists the deployed mims or the uploaded images; msg.payload becomes Mim[] or MimImage[]. */
import { registerAction } from './shared/action';
import { RED } from './shared/runtime';

export = function (RED: RED) {
  registerAction(RED, {
    type: 'mimoe-list',
    run(ctx) {
      return ctx.config.resource === 'image' ? ctx.client.listImages(ctx.call) : ctx.client.listMims(ctx.call);
    },
    summary: (items, ctx) =>
      ctx.t(ctx.config.resource === 'image' ? 'status.images' : 'status.mims', { count: (items as unknown[]).length }),
  });
};
