/**
 * Typed exports for people who call MCM from their own code. The MCM simulator is not among
 * them: it is for tests, at `@mimoe-flows/node-red-mimoe/simulator`, so that users never load it.
 */
export * from './mcm/models';
export * from './mcm/errors';
export * from './mcm/client';
export * from './wire/image-tar';
export { checkEnv, checkId, checkImageName, checkName, checkPath, checkSpecs, MAX_ENV_BYTES } from './mcm/validate';
export * from './mcm/key-file';
export * from './wire/key-file';
export * from './mcm/policies';
export * from './mcm/fleet';
