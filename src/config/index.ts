// kiln.yaml: schema, loading and the step graph.
export { artifactFileName, checkGraph, findCycle, topoOrder } from './graph.js';
export { type ConfigProblem, loadConfigFile, parseConfig } from './load.js';
export {
  type ArtifactConfig,
  type EnvironmentConfig,
  type KilnConfig,
  KilnConfigSchema,
  kilnJsonSchema,
  type PolicyConfig,
  type PublishConfig,
  type StepConfig,
} from './schema.js';
