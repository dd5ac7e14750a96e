// Retroactive impact: every recorded artifact's SBOM against today's vulnerability data (`kiln scan --all`).
import { promises as fsp } from 'node:fs';
import { type Digest, sha256Digest } from '../core/digest.js';
import { isKilnError } from '../core/errors.js';
import { blobPath } from '../registry/index.js';
import { matchBom, scanDatabase } from '../scan/database.js';
import type { Finding } from '../scan/match.js';
import type { ScanDatabase } from '../scan/vulns-predicate.js';
import { artifactSboms, type Store } from '../store/index.js';

/** One artifact (by digest) the current data finds vulnerabilities in, and every build that produced it. */
export interface AffectedArtifact {
  readonly digest: string;
  readonly project: string;
  readonly name: string;
  /** The SBOM's root component, where dependency paths start. */
  readonly root: string;
  readonly commit: string;
  readonly builds: readonly string[];
  readonly findings: readonly Finding[];
}

/** What a retroactive scan found. */
export interface RescanReport {
  readonly database: ScanDatabase;
  /** Distinct artifacts (by digest) scanned. */
  readonly scanned: number;
  readonly affected: readonly AffectedArtifact[];
  /** Artifacts whose SBOM could be found neither as delivered nor in the OCI layout (or failed its digest). */
  readonly unreadable: readonly { readonly digest: string; readonly build: string; readonly why: string }[];
}

/** Scans the SBOM of every recorded artifact (optionally of one project or build); each SBOM once. */
export async function rescanRecorded(
  store: Store,
  ociDir: string,
  opts: { project?: string; buildId?: string; onProgress?: (done: number, total: number) => void },
): Promise<RescanReport> {
  const rows = await artifactSboms(store, opts);
  const byArtifact = new Map<string, typeof rows>();
  for (const row of rows) {
    const list = byArtifact.get(row.digest);
    if (list) list.push(row);
    else byArtifact.set(row.digest, [row]);
  }
  const scans = new Map<string, Awaited<ReturnType<typeof matchBom>>>();
  const affected: AffectedArtifact[] = [];
  const unreadable: { digest: string; build: string; why: string }[] = [];
  const database = await scanDatabase(store); // one revision for the whole report
  let done = 0;
  for (const [digest, builds] of byArtifact) {
    const newest = builds[0];
    if (!newest) continue;
    opts.onProgress?.(done++, byArtifact.size);
    let scan = scans.get(newest.sbom_digest);
    if (!scan) {
      const bom = await readSbom(newest.sbom_path, newest.sbom_digest as Digest, ociDir);
      if (bom.kind === 'missing') {
        unreadable.push({ digest, build: newest.build_id, why: bom.why });
        continue;
      }
      try {
        scan = await matchBom(store, bom.value, `the SBOM of ${digest} (build ${newest.build_id})`);
      } catch (err) {
        if (!isKilnError(err)) throw err;
        unreadable.push({ digest, build: newest.build_id, why: err.message });
        continue;
      }
      scans.set(newest.sbom_digest, scan);
    }
    if (scan.result.findings.length === 0) continue;
    affected.push({
      digest,
      project: newest.project,
      name: newest.name,
      root: scan.graph.root.name,
      commit: newest.commit_sha,
      builds: builds.map((b) => b.build_id),
      findings: scan.result.findings,
    });
  }
  return { database, scanned: byArtifact.size, affected, unreadable };
}

/** The SBOM as delivered, else its blob in the OCI layout; either only when its bytes have the recorded digest. */
async function readSbom(
  path: string,
  digest: Digest,
  ociDir: string,
): Promise<{ kind: 'ok'; value: unknown } | { kind: 'missing'; why: string }> {
  for (const candidate of [path, blobPath(ociDir, digest)]) {
    const bytes = await fsp.readFile(candidate).catch(() => undefined);
    if (!bytes || sha256Digest(bytes) !== digest) continue;
    try {
      return { kind: 'ok', value: JSON.parse(bytes.toString('utf8')) };
    } catch {
      return { kind: 'missing', why: `${candidate} has the recorded digest ${digest} but is not JSON` };
    }
  }
  return { kind: 'missing', why: `no copy with digest ${digest} at ${path} or in the OCI layout ${ociDir}` };
}
