// kiln.yaml (schema, loading, the step graph) and kiln-server.yaml (schema, loading, secrets, projects).
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
export {
  type AlertingConfig,
  type BranchClass,
  DEFAULT_PRIORITY,
  defaultObservability,
  type GitHubStatuses,
  type NotifyEvent,
  type NotifyTarget,
  type Objective,
  type PriorityRule,
  type Schedule,
  type SecretFormat,
  type SecretRef,
  type ServerConfig,
  type ServerDatabase,
  type ServerProject,
  type SloConfig,
  secretRefsOf,
} from './server-config.js';
export { loadServerConfigFile, parseServerConfig } from './server-load.js';
export {
  buildsRef,
  priorityClassOf,
  projectForRepository,
  projectsForRepository,
  supersedes,
} from './server-projects.js';
export { DEFAULT_CLASSES, NOTIFY_EVENTS, serverJsonSchema } from './server-schema.js';
export { resolveSecret, type SecretSources } from './server-secrets.js';
export { normalRepository, parseListen } from './server-urls.js';
