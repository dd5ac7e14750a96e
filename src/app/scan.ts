// `kiln scan`: every recorded artifact's SBOM (or one build's) against today's vulnerability data, each SBOM read
// from where the build delivered it, else from the artifact target, and only with its recorded digest.
import { promises as fsp } from 'node:fs';
import { type Digest, sha256Digest } from '../core/digest.js';
import { isKilnError, KilnError } from '../core/errors.js';
import type { ContentSource } from '../registry/copy.js';
import { matchBom, scanDatabase } from '../scan/database.js';
import type { Finding } from '../scan/match.js';
import type { ScanDatabase } from '../scan/vulns-predicate.js';
import { artifactSboms, getBuild, type Store } from '../store/index.js';
import type { KilnPorts } from './ports.js';

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

/** Which artifacts to scan: all (optionally one project's), or one build's. */
export type ScanRequest =
  | { readonly all: true; readonly project?: string | undefined }
  | { readonly all?: false; readonly buildId: string };

/** Progress is reported every this many artifacts. */
const PROGRESS_EVERY = 100;

/** Scans the recorded artifacts `request` names against the store's vulnerability data now. */
export async function scanRecorded(
  ports: Pick<KilnPorts, 'store' | 'artifacts' | 'events'>,
  request: ScanRequest,
): Promise<RescanReport> {
  const store = await ports.store();
  let buildId: string | undefined;
  if (!request.all) {
    const found = await getBuild(store, request.buildId);
    if (!found) {
      throw new KilnError('KILN_NOT_FOUND', `no build ${request.buildId} in the store`, {
        hint: 'list builds with `kiln builds`',
      });
    }
    if (found.build.status !== 'succeeded') {
      throw new KilnError(
        'KILN_NOT_FOUND',
        `build ${found.build.id} ${found.build.status}: it recorded no artifacts to scan`,
        {
          hint: 'scan a succeeded build (`kiln builds`), or all of them with --all',
        },
      );
    }
    buildId = found.build.id;
  }
  return rescanRecorded(store, await ports.artifacts.source(), {
    ...(request.all && request.project ? { project: request.project } : {}),
    ...(buildId ? { buildId } : {}),
    onProgress: (done, total) => {
      if (done > 0 && done % PROGRESS_EVERY === 0) ports.events({ kind: 'progress', task: 'scan', done, total });
    },
  });
}

/** Scans the SBOM of every recorded artifact (optionally of one project or build); each SBOM once. */
async function rescanRecorded(
  store: Store,
  published: ContentSource,
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
      const bom = await readSbom(newest.sbom_path, newest.sbom_digest as Digest, published);
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

/** The SBOM as delivered, else its blob where the build published it; either only with the recorded digest. */
async function readSbom(
  path: string,
  digest: Digest,
  published: ContentSource,
): Promise<{ kind: 'ok'; value: unknown } | { kind: 'missing'; why: string }> {
  const candidates: [string, () => Promise<Buffer | undefined>][] = [
    [path, () => fsp.readFile(path).catch(() => undefined)],
    [published.name, () => readPublished(published, digest)],
  ];
  for (const [where, read] of candidates) {
    const bytes = await read();
    if (!bytes || sha256Digest(bytes) !== digest) continue;
    try {
      return { kind: 'ok', value: JSON.parse(bytes.toString('utf8')) };
    } catch {
      return { kind: 'missing', why: `${where} has the recorded digest ${digest} but is not JSON` };
    }
  }
  return { kind: 'missing', why: `no copy with digest ${digest} at ${path} or in ${published.name}` };
}

/** A blob as the artifact target has it (a file of the layout, or downloaded), undefined when it is not there. */
async function readPublished(published: ContentSource, digest: Digest): Promise<Buffer | undefined> {
  const blob = await published.blob(digest, MAX_SBOM_BYTES).catch(() => undefined);
  if (blob === undefined) return undefined;
  return typeof blob === 'string' ? fsp.readFile(blob).catch(() => undefined) : Buffer.from(blob);
}

/** An SBOM larger than this is not read back from a registry. */
const MAX_SBOM_BYTES = 256 << 20;
