/**
 * What every action node does the same way: find the config node's client, evaluate inputs,
 * show status, put the result in msg.payload, and route every failure through one funnel to
 * done(err). Close aborts the msgs in flight and waits until each has called done.
 */
import type { Node } from 'node-red';
import { CallOptions, McmClient } from '../../mcm/client';
import { upgradeConfig, versionSetting } from './config-version';
import { describeFailure, MimoeNodeError, setStatusCode } from './errors';
import { FromMsg, messageTimeout, readInput } from './inputs';
import { Done, Msg, NodeConfig, RED, Send } from './runtime';
import { serverClient } from './server';
import { StatusLight } from './status';

export interface ActionContext<C = McmClient> {
  RED: RED;
  node: Node;
  config: NodeConfig;
  msg: Msg;
  client: C;
  /** Carries the abort signal of this msg and its timeout (msg.timeout, in ms, when set). */
  call: CallOptions;
  /** The blank-field rule: the node's field when set, else `fromMsg(msg)`. */
  input(key: string, fromMsg: FromMsg): Promise<unknown>;
  /** Text from this node's own catalog, e.g. t('status.deploying', {name}). */
  t(key: string, params?: Record<string, unknown>): string;
  /** A blue status while the work goes on; a function builds the text only when it is shown. */
  progress(text: string | (() => string)): void;
  send: Send;
}

export interface ActionSpec<C = McmClient> {
  type: string;
  /**
   * The client from the node's config node, asked for each msg; throws a MimoeNodeError when
   * there is none. Default: the McmClient of the mimoe-config node in `server`.
   */
  client?(config: NodeConfig): C;
  /** Does the work and resolves the new msg.payload. */
  run(ctx: ActionContext<C>): Promise<unknown>;
  /** Green status text after success; undefined clears the status. */
  summary?(payload: unknown, ctx: ActionContext<C>): string | undefined;
  /** A text here shows a yellow ring instead: the result is sent on, but it is not confirmed. */
  warning?(payload: unknown, ctx: ActionContext<C>): string | undefined;
}

export function registerAction<C = McmClient>(RED: RED, spec: ActionSpec<C>): void {
  // Without spec.client, C is McmClient (the default type argument).
  const clientOf = spec.client ?? ((config: NodeConfig) => serverClient(RED, config) as unknown as C);
  function ActionNode(this: Node, saved: NodeConfig) {
    RED.nodes.createNode(this, saved);
    const node = this;
    const config = upgradeConfig(RED, node, saved);
    const inFlight = new Map<AbortController, Promise<void>>();
    const t = (key: string, params?: Record<string, unknown>) => RED._(`${spec.type}.${key}`, params as Record<string, string>);
    const status = new StatusLight(node);
    const working = t('status.working');

    async function handle(msg: Msg, send: Send, done: Done, controller: AbortController): Promise<void> {
      try {
        const client = clientOf(config);
        const timeoutMs = messageTimeout(RED, msg.timeout);
        const ctx: ActionContext<C> = {
          RED,
          node,
          config,
          msg,
          client,
          call: { signal: controller.signal, timeoutMs },
          input: (key, fromMsg) => readInput(RED, node, config, key, msg, fromMsg),
          t,
          progress: (text) => status.show('blue', text),
          send,
        };
        status.show('blue', working);
        const payload = await spec.run(ctx);
        msg.payload = payload;
        const warning = spec.warning?.(payload, ctx);
        if (warning === undefined) status.show('green', () => spec.summary?.(payload, ctx));
        else status.show('yellow', warning);
        send(msg);
        done();
      } catch (err) {
        const failure = describeFailure(RED, err);
        // A failure that has a result to show (a rollout that stopped) puts it where Catch nodes look.
        if (err instanceof MimoeNodeError && err.payload !== undefined) msg.payload = err.payload;
        setStatusCode(msg, failure);
        status.show('red', failure.status);
        done(failure.error);
      }
    }

    node.on('input', (msg: Msg, send: Send, done: Done) => {
      const controller = new AbortController();
      inFlight.set(
        controller,
        handle(msg, send, done, controller).finally(() => inFlight.delete(controller)),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.stop();
      for (const controller of inFlight.keys()) controller.abort();
      void Promise.allSettled([...inFlight.values()]).then(() => done());
    });
  }
  RED.nodes.registerType(spec.type, ActionNode, versionSetting(spec.type));
}
