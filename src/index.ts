/** Typed exports for people who call MCM from their own code. */
export * from './mcm/models';
export * from './mcm/errors';
export * from './mcm/client';
export * from './mcm/image-tar';
export { checkEnv, checkId, checkImageName, checkName, checkPath, checkSpecs, MAX_ENV_BYTES } from './mcm/validate';
export * from './mcm/key-file';
export * from './mcm/policies';
export * from './mcm/fleet';
export * from './simulator';
