/** What the node files share about the Node-RED runtime they run in. */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { McmClient } from '../../mcm/client';
import type { FleetClient } from '../../mcm/fleet';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type RED = NodeAPI;
export type Msg = NodeMessageInFlow & Record<string, unknown>;
export type NodeConfig = NodeDef & Record<string, unknown>;
export type Send = (msg: Msg | Array<Msg | null>) => void;
export type Done = (err?: Error) => void;

/**
 * Texts every node uses (error messages, input rules, common statuses) live once, in the
 * config node's catalog; Node-RED names a node set's catalog `<module>/<file>`.
 */
export const SHARED_CATALOG = `${packageName()}/mimoe-config`;
/** Texts of fleets (member settings, rollout refusals), used by mimoe-fleet and mimoe-rollout. */
export const FLEET_CATALOG = `${packageName()}/mimoe-fleet`;

/** This package's name, from its package.json (four levels up from build/src/nodes/shared). */
function packageName(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as { name: string };
  return pkg.name;
}

export interface MimoeConfigNode extends Node {
  /** Undefined when the settings are unusable; `problem` then says why. */
  client?: McmClient;
  problem?: string;
}

export interface MimoeFleetNode extends Node {
  /** Undefined when the settings are unusable; `problem` then says why. */
  fleet?: FleetClient;
  problem?: string;
}
