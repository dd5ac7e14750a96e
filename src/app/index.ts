// The application layer's public face: what the surfaces (CLI, server, workers, dashboard) use besides core/.

export type { ServerConfig } from '../config/index.js';
export { parseListen } from '../config/index.js';
export { EXPOSITION_CONTENT_TYPE } from '../observe/exposition.js';
export type { AlertRow, BuildDetail, BuildRow } from '../store/index.js';
export type { BuildOptions, BuildRequest, BuildResult, StepSummary } from './build/types.js';
export { type EmbeddedOptions, embeddedPorts } from './embedded.js';
export type { MachineHealth } from './health.js';
export { createKiln, type Kiln } from './kiln.js';
export type { KilnPorts, RunnerKind } from './ports.js';
