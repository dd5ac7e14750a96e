// The SBOM for a build: from the committed package-lock.json when there is one, else a document with no dependencies.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import {
  type ComponentGraph,
  cycloneDxDocument,
  generateNpmSbom,
  serializeBom,
  validateCycloneDx,
} from '../sbom/index.js';
import type { SourceRef } from '../source/index.js';

/** An SBOM ready to attest and publish. */
export interface BuildSbom {
  readonly bytes: Buffer;
  readonly bom: unknown;
  /** The lockfile it was read from (path relative to the project), or undefined when there is none. */
  readonly lockfile: { readonly path: string; readonly digest: Digest } | undefined;
}

/** Builds and validates the CycloneDX SBOM of the project as checked out. */
export async function makeSbom(input: {
  projectDir: string;
  source: SourceRef;
  config: { name: string };
  kilnVersion: string;
}): Promise<BuildSbom> {
  const meta = {
    commit: input.source.commit,
    sourceDateEpoch: input.source.sourceDateEpoch,
    toolName: 'kiln',
    toolVersion: input.kilnVersion,
  };
  const npm = await generateNpmSbom({ dir: input.projectDir, ...meta });
  if (npm) return { bom: npm.bom, bytes: npm.bytes, lockfile: npm.graph.lockfile };
  const empty: ComponentGraph = {
    root: { name: input.config.name, version: '0.0.0', ref: `pkg:generic/${encodeURIComponent(input.config.name)}` },
    components: [],
    lockfile: { path: '', digest: sha256Digest('') },
  };
  const bom = cycloneDxDocument(empty, meta);
  validateCycloneDx(bom);
  return { bom, bytes: serializeBom(bom), lockfile: undefined };
}

/** Fails when a step rewrote the lockfile: the SBOM and provenance must describe what was committed. */
export async function assertLockfileUnchanged(projectDir: string, lockfile: BuildSbom['lockfile']): Promise<void> {
  if (!lockfile) return;
  const now = await fsp.readFile(join(projectDir, lockfile.path)).then(sha256Digest, () => 'missing');
  if (now !== lockfile.digest) {
    throw new KilnError(
      'E_LOCKFILE_INVALID',
      `a step changed ${lockfile.path} during the build (committed ${lockfile.digest}, now ${now})`,
      {
        hint: 'install with `npm ci` (which never rewrites the lockfile), or commit the updated lockfile',
      },
    );
  }
}
