// The SBOM for a build: from package-lock.json when there is one, else a document with no dependencies (and a warning).
import { sha256Digest } from '../core/digest.js';
import {
  type ComponentGraph,
  cycloneDxDocument,
  generateNpmSbom,
  serializeBom,
  validateCycloneDx,
} from '../sbom/index.js';
import type { SourceRef } from '../source/index.js';

/** The SBOM document bytes and the lockfile it came from (undefined when none). */
export async function makeSbom(input: {
  projectDir: string;
  source: SourceRef;
  config: { name: string };
  kilnVersion: string;
}) {
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
