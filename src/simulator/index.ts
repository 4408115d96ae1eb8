/** The MCM simulator, for tests, benchmarks and the `mcm-simulator` command. */
export { McmSimulator, startSimulator, readKeyFile, writeKeyFile } from './server';
export type { SimulatorOptions, RequestLogEntry, UploadPartLog } from './server';
export { SIM_ROUTES, isSimRoute } from './faults';
export type { Fault, SimRoute } from './faults';
export { MultipartParser, MultipartError, boundaryOf } from './multipart';
export type { PartInfo, MultipartHandler } from './multipart';
