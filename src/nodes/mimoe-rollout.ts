/**
 * mimoe-rollout: one operation (deploy, composition, remove or upload) on the devices of a
 * mimoe-fleet, with the inputs of the single-device node of that name; msg.payload becomes the
 * RolloutResult. Waves (a canary, then the rest, `parallel` at a time), health checks, stop on
 * failures and rollback are the FleetClient's; this node reads inputs and reports.
 */
import { ROLLOUT_DEFAULTS } from '../mcm/defaults';
import type { FleetClient, RolloutOptions, RolloutPlan, RolloutProgress } from '../mcm/fleet';
import { FleetError } from '../mcm/fleet';
import type { RolloutResult } from '../mcm/models';
import { ActionContext, registerAction } from './shared/action';
import { envFromNode } from './shared/env-list';
import { describeFailure, MimoeNodeError, shared } from './shared/errors';
import { DEPLOY_PAYLOAD, fromPayload, idFromPayload, uploadInput } from './shared/inputs';
import { policyFrom } from './shared/policy';
import { MimoeFleetNode, NodeConfig, RED } from './shared/runtime';

type Ctx = ActionContext<FleetClient>;

function fleetOf(RED: RED, config: NodeConfig): FleetClient {
  const node = RED.nodes.getNode(config.fleet as string) as MimoeFleetNode | null;
  const status = shared(RED, 'status.config');
  if (!node) throw new MimoeNodeError(RED._('mimoe-rollout.errors.no-fleet'), 'MCM_NO_CONFIG', { status });
  if (!node.fleet)
    throw new MimoeNodeError(RED._('mimoe-rollout.errors.fleet-invalid', { reason: node.problem ?? '' }), 'MCM_CONFIG', { status });
  return node.fleet;
}

/** The operation and its input, read as the single-device node of that name reads them. */
async function planFrom(ctx: Ctx): Promise<RolloutPlan> {
  const { config, msg } = ctx;
  switch (config.operation) {
    case 'composition': {
      const specs = await ctx.input('specs', (m) => m.payload);
      // A composition that fails part-way on a device removes what it created there, as mimoe-composition does by default.
      const policy = { ...policyFrom(ctx, 'deployComposition'), rollback: true, onWaiting: undefined };
      return { operation: 'composition', specs: specs as never, policy };
    }
    case 'remove': {
      const resource = config.resource === 'image' ? 'image' : 'mim';
      return { operation: 'remove', resource, id: (await ctx.input('target', idFromPayload)) as string };
    }
    case 'upload': {
      const { source, filename } = await uploadInput(ctx.input, msg);
      return { operation: 'upload', source: source as string, filename };
    }
    default: {
      const name = await ctx.input('mimName', fromPayload('name', DEPLOY_PAYLOAD));
      const image = await ctx.input('image', fromPayload('image', DEPLOY_PAYLOAD));
      const env = envFromNode(config) ?? fromPayload('env')(msg);
      const policy = { ...policyFrom(ctx, 'deployMim'), onWaiting: undefined };
      return { operation: 'deploy', spec: { name, image, env } as never, policy };
    }
  }
}

/** The node's Devices field, else msg.devices: member names or globs, an array or a comma-separated string. */
async function devicesFrom(ctx: Ctx): Promise<string[] | undefined> {
  const value = await ctx.input('devices', (m) => m.devices);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.split(',');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new FleetError('devices-invalid', { type: Array.isArray(value) ? 'an array of other things' : typeof value });
}

function progressText(RED: RED, progress: RolloutProgress): string {
  const params = { done: progress.done, total: progress.total, count: progress.failed };
  return RED._(progress.failed ? 'mimoe-rollout.status.failed' : 'mimoe-rollout.status.progress', params);
}

/** The error of a rollout that stopped, with its result for Catch nodes; `firstFailure` is the earliest in time. */
function stoppedError(RED: RED, result: RolloutResult, maxFailures: number, firstFailure: string | undefined): MimoeNodeError {
  const failed = result.devices.filter((d) => !d.ok && d.note !== 'skipped');
  const progress = { total: result.total, done: result.total - result.skipped, failed: result.failed };
  let message: string;
  if (result.stopped === 'aborted') {
    message = RED._('mimoe-rollout.errors.aborted', { done: progress.done, total: progress.total });
  } else {
    const names = failed.map((d) => d.device);
    message = RED._('mimoe-rollout.errors.stopped', {
      count: failed.length,
      total: result.total,
      max: maxFailures,
      devices: names.length > 10 ? `${names.slice(0, 10).join(', ')}, …` : names.join(', '),
      first: firstFailure ?? failed[0]?.error ?? '',
    });
    if (result.rolledBack) message += RED._('mimoe-rollout.errors.rolled-back', { count: result.rolledBack });
    const notRestored = result.devices.filter((d) => d.note === 'rollback-failed').map((d) => d.device);
    if (notRestored.length) message += RED._('mimoe-rollout.errors.rollback-failed', { devices: notRestored.join(', ') });
  }
  const status = RED._('mimoe-rollout.status.stopped', { text: progressText(RED, progress) });
  return new MimoeNodeError(message, result.stopped === 'aborted' ? 'MCM_ABORTED' : 'MCM_ROLLOUT_STOPPED', { status, payload: result });
}

export = function (RED: RED) {
  registerAction<FleetClient>(RED, {
    type: 'mimoe-rollout',
    client: (config) => fleetOf(RED, config),
    async run(ctx) {
      const { config, msg } = ctx;
      const plan = await planFrom(ctx);
      const devices = await devicesFrom(ctx);
      const healthTimeout = Number(config.healthTimeout);
      // Devices finish in their own time: the first failure named is the first to happen, not the first listed.
      let firstFailure: string | undefined;
      const options: RolloutOptions = {
        devices,
        canary: config.canary as number,
        parallel: config.parallel as number,
        maxFailures: config.maxFailures as number,
        rollback: config.rollback === true,
        health: config.healthCheck
          ? {
              path: String(config.healthPath ?? ''),
              timeoutMs: (healthTimeout > 0 ? healthTimeout : ROLLOUT_DEFAULTS.healthTimeout) * 1000,
            }
          : undefined,
        refresh: Boolean(msg.refresh),
        ...ctx.call,
        describe: (err) => {
          const failure = describeFailure(RED, err);
          return { error: failure.error.message, code: failure.error.code, statusCode: failure.statusCode };
        },
        onDevice: (device, progress) => {
          if (!device.ok && device.note !== 'skipped') firstFailure ??= device.error;
          ctx.progress(progressText(RED, progress));
          if (config.deviceOutput)
            ctx.send([null, { _msgid: msg._msgid, topic: msg.topic, device: device.device, payload: device } as never]);
        },
      };
      ctx.progress(ctx.t(options.refresh ? 'status.discovering' : 'status.working'));
      const result = await ctx.client.rollout(plan, options);
      if (result.stopped) throw stoppedError(RED, result, Number(config.maxFailures) || ROLLOUT_DEFAULTS.maxFailures, firstFailure);
      return result;
    },
    summary: (result, ctx) => {
      const { total, failed } = result as RolloutResult;
      return progressText(ctx.RED, { total, done: total, failed });
    },
  });
};
