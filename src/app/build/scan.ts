// The build's scan, run while the steps do: the SBOM against the store's vulnerability data, the policy's VEX
// documents from the commit; and, once the steps ran, the licenses the installed packages declare.
import { join } from 'node:path';
import type { BlobStore } from '../../cache/index.js';
import type { PolicyConfig } from '../../config/index.js';
import type { EventSink } from '../../core/events.js';
import type { StepResult } from '../../execute/index.js';
import type { SourceView } from '../../plan/source-view.js';
import { installedLicenses } from '../../sbom/installed-licenses.js';
import type { BuildSbom, LockfileSbom } from '../../sbom/make.js';
import { bomGraph } from '../../scan/bom-components.js';
import { type BuildScan, readVexDocuments, scanBom } from '../../scan/database.js';
import type { Store } from '../../store/index.js';

/**
 * Scans the SBOM against the store's vulnerability data and reads the policy's VEX documents. `about` names the
 * artifacts when the build has an SBOM for each of several sets of them (` of core, app`), else ''.
 */
export async function scanStage(
  store: Store,
  sbom: BuildSbom,
  policy: PolicyConfig,
  view: SourceView,
  emit: EventSink,
  about = '',
): Promise<BuildScan> {
  const [found, vex] = await Promise.all([
    scanBom(store, sbom.bom, 'the build SBOM'),
    readVexDocuments(policy, (path) => view.readFile(join(view.projectDir, path))),
  ]);
  const { findings } = found.result;
  const data = found.database.records;
  const said =
    data === 0
      ? 'no vulnerability data imported (kiln db import <OSV dir or zip>): nothing to match against'
      : `${found.result.checked} components against ${data} OSV records: ${findings.length} finding(s)`;
  emit({ kind: 'stage', stage: 'scan', detail: about === '' ? said : `the SBOM${about}: ${said}` });
  for (const note of found.result.notes) emit({ kind: 'warning', message: `scan: ${note}` });
  return { ...found, vex };
}

/**
 * The SBOM and scan with the licenses the lockfiles lack (pnpm-lock.yaml and yarn.lock record none) taken from the
 * package.json files the steps installed; unchanged, at the cost of a pass over the output trees at most, when no npm
 * component lacks one or no step's outputs hold an installed package.
 */
export async function withInstalledLicenses(
  sbom: LockfileSbom,
  scan: BuildScan,
  results: ReadonlyMap<string, StepResult>,
  blobs: BlobStore,
  emit: EventSink,
): Promise<{ sbom: BuildSbom; scan: BuildScan }> {
  const steps = [...results].flatMap(([step, r]) => (r.tree ? [{ step, tree: r.tree }] : []));
  const found = await installedLicenses({ components: scan.graph.components, steps, blobs });
  for (const message of found.warnings) emit({ kind: 'warning', message });
  if (found.licenses.size === 0) return { sbom, scan };
  const licensed = await sbom.withLicenses(found.licenses);
  emit({
    kind: 'stage',
    stage: 'sbom',
    detail: `licenses of ${found.licenses.size} npm package(s) from the package.json files the steps installed`,
  });
  // The gate judges licenses by the scan's components: the same SBOM that is signed and delivered.
  return { sbom: licensed, scan: { ...scan, graph: bomGraph(licensed.bom, 'the build SBOM') } };
}
