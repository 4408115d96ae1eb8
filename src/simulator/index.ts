/**
 * The MCM simulator, for tests, benchmarks and the `mcm-simulator` command: the package's
 * `@mimoe-flows/node-red-mimoe/simulator` subpath, kept out of its main entry so users never load it.
 */
export { McmSimulator, startSimulator } from './server';
export { LOG_BODY_BYTES, LOG_PARTS } from './request-log';
export { readKeyFile, writeKeyFile } from './key-file';
export type { SimulatorOptions } from './options';
export type { SimulatorStats } from './server';
export type { SimDataStoreAction, SimDataStoreResult, SimEnv, SimImage, SimMim, SimMimSpec } from './shapes';
export type { RequestLogEntry, UploadPartLog } from './request-log';
export { McmFleet, McmFleetDevice, MAX_FLEET_SIZE } from './fleet';
export type { McmFleetOptions, McmFleetMode } from './fleet';
export { DEFAULT_INSIGHT_TOKEN, INSIGHT_TYPES } from './insight';
export type { SimInsightNode, SimInsightAddress, SimInsightIdentity, SimInsightType } from './insight';
export { PROFILES, PROFILE_NAMES, PROFILE_VARIABLE, isProfileName, profileFromEnvironment } from './profile';
export type { ProfileName, ProfileRules } from './profile';
export { SIM_ROUTES, isSimRoute } from './faults';
export type { Fault, SimRoute } from './faults';
export { MultipartParser, MultipartError, boundaryOf } from './multipart';
export type { PartInfo, MultipartHandler } from './multipart';
