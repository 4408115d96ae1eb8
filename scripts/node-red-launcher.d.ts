import type { ChildProcess } from 'node:child_process';

export const packageName: string;
export const nodeTypes: string[];
export function linkPackage(userDir: string, packageDir?: string): void;
export function writeSettings(userDir: string, options: { port: number; extra?: string }): string;
export interface RunningNodeRed {
  url: string;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}
export function startNodeRed(options: {
  userDir: string;
  settings: string;
  env?: NodeJS.ProcessEnv;
  nodeRedDir?: string;
  node?: string;
  output?: (text: string) => void;
  timeoutMs?: number;
}): Promise<RunningNodeRed>;
export function stopNodeRed(child: ChildProcess): Promise<void>;
