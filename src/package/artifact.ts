// The package stage for one artifact: a directory a step produced → deterministic tar.gz, or one file as it is.
import { promises as fsp } from 'node:fs';
import { KilnError } from '../core/errors.js';
import { copyFileArtifact, type PackedArtifact, packDirectory } from './pack.js';
import { resolveInside } from './paths.js';

/** An artifact as kiln.yaml declares it: which step's output, which path in it, packed how. */
export interface ArtifactSpec {
  readonly name: string;
  readonly from: string;
  readonly path: string;
  readonly format: 'tgz' | 'file';
}

/** Packs `artifact` from `stepOutputs` (the restored outputs of its step) into `dest`. */
export async function packageArtifact(
  artifact: ArtifactSpec,
  opts: {
    /** Where the outputs of the artifact's step were restored. */
    readonly stepOutputs: string;
    readonly dest: string;
    /** mtime of every tar entry (the commit time). */
    readonly sourceDateEpoch: number;
    /** The step's declared outputs, named in the hint when the path is missing. */
    readonly declaredOutputs: readonly string[];
  },
): Promise<PackedArtifact> {
  const src = await resolveInside(opts.stepOutputs, artifact.path, `artifact ${artifact.name}: path`);
  const stat = await fsp.lstat(src).catch(() => undefined);
  if (!stat) {
    throw new KilnError(
      'KILN_OUTPUT_MISSING',
      `artifact ${artifact.name}: step ${artifact.from} did not produce ${artifact.path}`,
      {
        hint: `make step ${artifact.from} write ${artifact.path} (its declared outputs: ${opts.declaredOutputs.join(', ') || 'none'})`,
      },
    );
  }
  if (artifact.format === 'file') return copyFileArtifact(src, opts.dest);
  if (!stat.isDirectory()) {
    throw new KilnError('KILN_PACKAGE_UNSAFE', `artifact ${artifact.name}: ${artifact.path} is not a directory`, {
      hint: 'use format: file for a single file, or point path at a directory',
    });
  }
  return packDirectory(src, opts.dest, opts.sourceDateEpoch);
}
