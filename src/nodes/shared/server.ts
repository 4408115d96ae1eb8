/** The client a node gets from the mimoe-config node it names in `server`. */
import type { McmClient } from '../../mcm/client';
import { configError, MimoeNodeError, shared } from './errors';
import { MimoeConfigNode, NodeConfig, RED } from './runtime';

/** The McmClient of the node's mimoe-config; throws a MimoeNodeError (status "config problem") when there is none or it is unusable. */
export function serverClient(RED: RED, config: NodeConfig): McmClient {
  const server = RED.nodes.getNode(config.server as string) as MimoeConfigNode | null;
  if (!server) throw new MimoeNodeError(shared(RED, 'errors.no-config'), 'MCM_NO_CONFIG', { status: shared(RED, 'status.config') });
  if (!server.client) throw configError(RED, server.problem ?? '');
  return server.client;
}
