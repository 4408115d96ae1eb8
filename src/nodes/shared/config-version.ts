/** The runtime side of migrations.ts: each node reads its config in this release's shape, and the editor learns the version of new nodes. */
import type { Node } from 'node-red';
import { shared } from './errors';
import { configVersion, migrateConfig, SavedConfig, versionSettingName } from './migrations';
import { NodeConfig, RED } from './runtime';

/** A node's config brought to this release's shape; one saved by a newer release is used as it is, with a warning. */
export function upgradeConfig<T extends NodeConfig>(RED: RED, node: Node, config: T): T {
  const migration = migrateConfig(config as SavedConfig);
  if (migration.newer) node.warn(shared(RED, 'warn.newer-config', { version: migration.from, current: migration.current }));
  return migration.config as T;
}

/**
 * registerType's option that hands the type's current version to the editor, where the html's
 * defaults read it as `RED.settings.<type in camelCase>Version` (e.g. RED.settings.mimoeDeployVersion).
 */
export function versionSetting(type: string): { settings: Record<string, { value: number; exportable: true }> } {
  return { settings: { [versionSettingName(type)]: { value: configVersion(type), exportable: true } } };
}
