// `kiln sbom`: the SBOM of a project's lockfiles as they are on disk, without building, signing or recording.
import { promises as fsp } from 'node:fs';
import { basename, resolve } from 'node:path';
import { isKilnError, KilnError } from '../core/errors.js';
import { makeSbom } from '../sbom/make.js';
import type { KilnPorts } from './ports.js';
import { DISK_FILES, namedPackageSbomWorkspace, workspacePackages } from './workspace-sbom.js';

/** The SBOM of the project in `projectPath` (relative to the caller), validated against its schema, as bytes. */
export async function projectSbom(
  ports: Pick<KilnPorts, 'cwd' | 'env' | 'now' | 'version' | 'events'>,
  request: {
    readonly projectPath: string;
    readonly format: string;
    /** A workspace package (package.json name or directory): its SBOM alone. Default: the whole workspace. */
    readonly package?: string | undefined;
  },
): Promise<Buffer> {
  const { format } = request;
  if (format !== 'cyclonedx' && format !== 'spdx') {
    throw new KilnError('KILN_USAGE', `kiln sbom: unknown --format "${format}"`, { hint: 'use cyclonedx or spdx' });
  }
  const projectDir = resolve(ports.cwd, request.projectPath);
  // A workspace Kiln cannot read fails `--package`; without it, the SBOM is the lockfiles' own layout, as before.
  const packages = await workspacePackages(projectDir, DISK_FILES).catch((err: unknown) => {
    if (request.package !== undefined || !isKilnError(err)) throw err;
    ports.events({
      kind: 'warning',
      message: `the SBOM describes the project as its lockfiles lay it out: ${err.message}`,
    });
    return [];
  });
  if (request.package !== undefined && packages.length === 0) {
    throw new KilnError('KILN_USAGE', `kiln sbom: --package needs a workspace, and ${projectDir} declares none`, {
      hint: 'declare workspaces in package.json (npm, yarn) or pnpm-workspace.yaml (pnpm), or leave out --package',
    });
  }
  const workspace =
    request.package === undefined
      ? { packages: packages.map((p) => p.dir) }
      : namedPackageSbomWorkspace(packages, request.package);
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
    workspace,
  });
  for (const message of sbom.warnings) ports.events({ kind: 'warning', message });
  return format === 'spdx' ? sbom.spdx.bytes : sbom.bytes;
}
