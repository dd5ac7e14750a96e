// `kiln config check` and `kiln config schema`: kiln.yaml or kiln-server.yaml validated without building or
// serving, and their JSON Schemas.
import { dirname, join, resolve } from 'node:path';
import {
  kilnJsonSchema,
  loadConfigFile,
  loadServerConfigFile,
  type ServerConfig,
  serverJsonSchema,
} from '../config/index.js';
import { planSteps } from '../plan/steps.js';
import type { KilnPorts } from './ports.js';

/**
 * Validates the kiln.yaml at `target` (a file, or a directory holding kiln.yaml); returns the file checked. perPackage
 * steps are expanded over the workspace on disk beside it, as a build would: a package path that leaves the project,
 * a package without a name or a dependency cycle is reported here too.
 */
export async function checkConfig(ports: Pick<KilnPorts, 'cwd'>, target: string): Promise<string> {
  const path = resolve(ports.cwd, target);
  const file = path.endsWith('.yaml') || path.endsWith('.yml') ? path : join(path, 'kiln.yaml');
  const { config } = await loadConfigFile(file);
  if (Object.values(config.steps).some((s) => s.perPackage)) await planSteps(config, dirname(file));
  return file;
}

/** The JSON Schema of kiln.yaml, for editors (generated from the schema the loader uses). */
export function configSchema(): unknown {
  return kilnJsonSchema();
}

/** Validates the kiln-server.yaml at `file` (relative to the caller's directory); returns the file checked. */
export async function checkServerConfig(ports: Pick<KilnPorts, 'cwd'>, file: string): Promise<string> {
  const path = resolve(ports.cwd, file);
  await loadServerConfigFile(path);
  return path;
}

/** The kiln-server.yaml at `file` (relative to the caller's directory), validated and normalized. */
export async function loadServerConfig(ports: Pick<KilnPorts, 'cwd'>, file: string): Promise<ServerConfig> {
  return loadServerConfigFile(resolve(ports.cwd, file));
}

/** The JSON Schema of kiln-server.yaml, for editors. */
export function serverConfigSchema(): unknown {
  return serverJsonSchema();
}
