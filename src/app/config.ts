// `kiln config check` and `kiln config schema`: kiln.yaml validated without building, and its JSON Schema.
import { join, resolve } from 'node:path';
import { kilnJsonSchema, loadConfigFile } from '../config/index.js';
import type { KilnPorts } from './ports.js';

/** Validates the kiln.yaml at `target` (a file, or a directory holding kiln.yaml); returns the file checked. */
export async function checkConfig(ports: Pick<KilnPorts, 'cwd'>, target: string): Promise<string> {
  const path = resolve(ports.cwd, target);
  const file = path.endsWith('.yaml') || path.endsWith('.yml') ? path : join(path, 'kiln.yaml');
  await loadConfigFile(file);
  return file;
}

/** The JSON Schema of kiln.yaml, for editors (generated from the schema the loader uses). */
export function configSchema(): unknown {
  return kilnJsonSchema();
}
