/** The deploy and composition nodes' options as a DeployPolicy; msg.ifExists overrides the node's ifExists. */
import { ACTION_DEFAULTS } from '../../mcm/defaults';
import type { McmOperation } from '../../mcm/errors';
import { DeployPolicy, parseIfExists } from '../../mcm/policies';
import type { ActionContext } from './action';
import { shared } from './errors';

export function policyFrom(ctx: ActionContext<unknown>, operation: McmOperation): DeployPolicy {
  const seconds = Number(ctx.config.waitTimeout);
  return {
    ifExists: parseIfExists(ctx.msg.ifExists ?? ctx.config.ifExists, operation),
    waitStarted: ctx.config.waitStarted === true,
    waitTimeoutMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : ACTION_DEFAULTS.waitTimeout) * 1000,
    rollback: ctx.config.rollback !== false,
    onWaiting: (started, total) => ctx.progress(shared(ctx.RED, 'status.waiting', { started, total })),
  };
}
