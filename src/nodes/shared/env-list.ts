/** The editor's env key/value list, saved as [{key, value}]; an empty list means "take msg.payload.env". */
import { Env } from '../../mcm/models';
import { NodeConfig } from './runtime';

export interface EnvEntry {
  key: string;
  value: string;
}

export function envFromNode(config: NodeConfig): Env | undefined {
  const entries = Array.isArray(config.env) ? (config.env as EnvEntry[]).filter((e) => e && typeof e.key === 'string' && e.key.trim()) : [];
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map((e) => [e.key.trim(), String(e.value ?? '')]));
}
