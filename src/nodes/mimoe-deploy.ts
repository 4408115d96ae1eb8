/**
 * mimoe-deploy: deploys one mim from an uploaded image; msg.payload becomes the Mim.
 * Options: ifExists (fail, replace, keep; msg.ifExists overrides) and waiting until started.
 */
import type { Env, Mim } from '../mcm/models';
import { deployMimWithPolicy } from '../mcm/policies';
import { registerAction } from './shared/action';
import { envFromNode } from './shared/env-list';
import { DEPLOY_PAYLOAD, fromPayload } from './shared/inputs';
import { policyFrom } from './shared/policy';
import { RED } from './shared/runtime';

export = function (RED: RED) {
  registerAction(RED, {
    type: 'mimoe-deploy',
    async run(ctx) {
      const name = await ctx.input('mimName', fromPayload('name', DEPLOY_PAYLOAD));
      const image = await ctx.input('image', fromPayload('image', DEPLOY_PAYLOAD));
      const env = envFromNode(ctx.config) ?? fromPayload('env')(ctx.msg);
      ctx.progress(() => ctx.t('status.deploying', { name: String(name ?? '') }));
      const spec = { name: name as string, image: image as string, env: env as Env };
      return deployMimWithPolicy(ctx.client, spec, policyFrom(ctx, 'deployMim'), ctx.call);
    },
    summary: (mim, ctx) => ctx.t('status.deployed', { name: (mim as Mim).name }),
  });
};
