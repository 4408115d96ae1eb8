/**
 * mimoe-composition: deploys several mims at once; msg.payload becomes Mim[].
 * Options as deploy, plus rollback: the mims this call created are removed if it fails part-way.
 */
import type { MimSpec } from '../mcm/models';
import { deployCompositionWithPolicy } from '../mcm/policies';
import { registerAction } from './shared/action';
import { policyFrom } from './shared/policy';
import { RED } from './shared/runtime';

export = function (RED: RED) {
  registerAction(RED, {
    type: 'mimoe-composition',
    async run(ctx) {
      const specs = await ctx.input('specs', (msg) => msg.payload);
      ctx.progress(ctx.t('status.deploying', { count: Array.isArray(specs) ? specs.length : 0 }));
      return deployCompositionWithPolicy(ctx.client, specs as MimSpec[], policyFrom(ctx, 'deployComposition'), ctx.call);
    },
    summary: (mims, ctx) => ctx.t('status.deployed', { count: (mims as unknown[]).length }),
  });
};
