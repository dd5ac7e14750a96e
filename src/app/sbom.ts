// `kiln sbom`: the SBOM of a project's lockfiles as they are on disk, without building, signing or recording.
import { promises as fsp } from 'node:fs';
import { basename, resolve } from 'node:path';
import { KilnError } from '../core/errors.js';
import { makeSbom } from '../sbom/make.js';
import type { KilnPorts } from './ports.js';

/** The SBOM of the project in `projectPath` (relative to the caller), validated against its schema, as bytes. */
export async function projectSbom(
  ports: Pick<KilnPorts, 'cwd' | 'env' | 'now' | 'version' | 'events'>,
  request: { readonly projectPath: string; readonly format: string },
): Promise<Buffer> {
  const { format } = request;
  if (format !== 'cyclonedx' && format !== 'spdx') {
    throw new KilnError('KILN_USAGE', `kiln sbom: unknown --format "${format}"`, { hint: 'use cyclonedx or spdx' });
  }
  const projectDir = resolve(ports.cwd, request.projectPath);
  const epoch = Number(ports.env.SOURCE_DATE_EPOCH);
  const sbom = await makeSbom({
    view: { projectDir, readFile: (path) => fsp.readFile(path) },
    source: {
      commit: '',
      subdir: '',
      sourceDateEpoch: Number.isInteger(epoch) && epoch >= 0 ? epoch : Math.floor(ports.now().getTime() / 1000),
    },
    config: { name: basename(projectDir) },
    kilnVersion: ports.version,
  });
  for (const message of sbom.warnings) ports.events({ kind: 'warning', message });
  return format === 'spdx' ? sbom.spdx.bytes : sbom.bytes;
}
