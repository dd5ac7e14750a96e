// Licenses the lockfile does not record (pnpm-lock.yaml, yarn.lock), read from the package.json files the steps
// installed: only those blobs are read from the cache, verified; the output trees are never restored to disk.
import type { BlobStore, OutputTree } from '../cache/index.js';
import { sha256Digest } from '../core/digest.js';
import { isRecord } from '../core/json.js';
import { npmPurl } from '../ecosystems/purl.js';

/** A component of the build SBOM as the search needs it (a scan's BomComponent is one). */
export interface LicenseSubject {
  /** Full name (npm: `@scope/name`). */
  readonly name: string;
  readonly purl: string;
  /** The license the lockfile gave; only components without one are looked up. */
  readonly license: string | undefined;
}

/** One step's outputs, named by the step (the order of the search: step name, then path). */
export interface StepOutputs {
  readonly step: string;
  readonly tree: OutputTree;
}

/** How much the search may read: a build with an enormous node_modules costs a bounded amount. */
export interface InstalledLicenseLimits {
  /** package.json blobs read at most. */
  readonly reads: number;
  /** A larger package.json is not read. */
  readonly fileBytes: number;
}

/** The bounds of a build: 20,000 package.json files of at most 1 MiB each. */
export const INSTALLED_LICENSE_LIMITS: InstalledLicenseLimits = Object.freeze({ reads: 20_000, fileBytes: 1 << 20 });

/** What the search found: licenses by purl, how many files it read, and what it could not read. */
export interface InstalledLicenses {
  /** purl → the license its installed package.json declares, for npm components the lockfile gave none. */
  readonly licenses: ReadonlyMap<string, string>;
  readonly read: number;
  readonly warnings: readonly string[];
}

/** A declared license longer than this is not a license expression or name: it is left out, not truncated. */
const MAX_LICENSE_CHARS = 1000;
/** Blobs read at once. */
const PARALLEL_READS = 16;
/**
 * `…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json`, nested ones and pnpm's
 * `.pnpm/<id>/node_modules/<name>/` included; `.bin`, `.pnpm` and the like are not packages.
 */
const INSTALLED_MANIFEST = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/.@][^/]*)\/package\.json$/;

const NOTHING: InstalledLicenses = Object.freeze({ licenses: new Map(), read: 0, warnings: Object.freeze([]) });

interface Candidate {
  /** The package name its folder suggests: read first when a wanted component has it (aliases may differ). */
  readonly folder: string;
  readonly file: Extract<OutputTree['entries'][number], { kind: 'file' }>;
}

/**
 * The licenses of npm components without one, from installed package.json files matched by their `name` and
 * `version` fields (not by path). Files are read in a fixed order (folders named like a wanted component first, each
 * kind by step then path) and the first that declares a license wins, so the result depends on the trees only. Cheap
 * when there is nothing to do: no npm component lacks a license, or no step's outputs hold an installed package.json.
 */
export async function installedLicenses(input: {
  components: readonly LicenseSubject[];
  steps: readonly StepOutputs[];
  blobs: Pick<BlobStore, 'getBlob'>;
  limits?: InstalledLicenseLimits;
}): Promise<InstalledLicenses> {
  const limits = input.limits ?? INSTALLED_LICENSE_LIMITS;
  const npm = input.components.filter((c) => c.purl.startsWith('pkg:npm/'));
  const wanted = new Set(npm.filter((c) => c.license === undefined).map((c) => c.purl));
  if (wanted.size === 0) return NOTHING;
  const candidates = installedManifests(input.steps);
  if (candidates.length === 0) return NOTHING;
  // Folders named like a wanted component first; then those named like no component at all (aliases, which npm and
  // yarn install under the alias); never those of components whose license is known.
  const wantedNames = new Set(npm.filter((c) => wanted.has(c.purl)).map((c) => c.name));
  const knownNames = new Set(npm.map((c) => c.name));
  const ordered = [
    ...candidates.filter((c) => wantedNames.has(c.folder)),
    ...candidates.filter((c) => !knownNames.has(c.folder)),
  ];
  const licenses = new Map<string, string>();
  const seen = new Set<string>();
  const readable = ordered.filter((c) => c.file.size <= limits.fileBytes);
  const budget = readable.slice(0, limits.reads);
  let read = 0;
  let unreadable = 0;
  while (read < budget.length && seen.size < wanted.size) {
    const batch = budget.slice(read, read + PARALLEL_READS);
    read += batch.length;
    // In order within the batch, so which file wins does not depend on which read finished first.
    for (const manifest of await Promise.all(batch.map((c) => readManifest(c.file, input.blobs)))) {
      if (manifest === undefined) {
        unreadable++;
        continue;
      }
      const { name, version } = manifest;
      if (typeof name !== 'string' || typeof version !== 'string' || name === '' || version === '') continue;
      const purl = npmPurl(name, version);
      if (!wanted.has(purl)) continue;
      seen.add(purl);
      const license = declaredLicense(manifest);
      if (license !== undefined && !licenses.has(purl)) licenses.set(purl, license);
    }
  }
  const missed = seen.size < wanted.size;
  const skipped = {
    large: missed ? ordered.length - readable.length : 0,
    unread: missed ? readable.length - budget.length : 0,
    unreadable,
  };
  return Object.freeze({ licenses, read, warnings: Object.freeze(warningsOf(skipped, limits)) });
}

/** Installed package.json files of every step, by step then path; a content read once however often installed. */
function installedManifests(steps: readonly StepOutputs[]): Candidate[] {
  const byStep = [...steps].sort((a, b) => (a.step < b.step ? -1 : a.step > b.step ? 1 : 0));
  const digests = new Set<string>();
  const found: Candidate[] = [];
  for (const { tree } of byStep) {
    for (const entry of tree.entries) {
      if (entry.kind !== 'file' || !entry.path.endsWith('/package.json') || digests.has(entry.digest)) continue;
      const folder = INSTALLED_MANIFEST.exec(entry.path)?.[1];
      if (folder === undefined) continue;
      digests.add(entry.digest);
      found.push({ folder, file: entry });
    }
  }
  return found;
}

/** The parsed object of one package.json, verified against its digest; undefined when missing, altered or not JSON. */
async function readManifest(
  file: Candidate['file'],
  blobs: Pick<BlobStore, 'getBlob'>,
): Promise<Record<string, unknown> | undefined> {
  const bytes = await blobs.getBlob(file.digest).catch(() => undefined);
  if (bytes === undefined || bytes.length !== file.size || sha256Digest(bytes) !== file.digest) {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
    return isRecord(value) ? value : {};
  } catch {
    return {}; // read, but not a manifest: nothing to match
  }
}

/**
 * The license a package.json declares, read as npm's own SBOM writer reads it (npm/cli lib/utils/sbom-cyclonedx.js):
 * `license` as text (an SPDX expression, or free text such as `SEE LICENSE IN …`) or the deprecated `{ type }`
 * object; failing that, the deprecated `licenses` array, its types (or strings) joined with OR, each parenthesised
 * when it is itself an expression so the join means what the parts mean.
 */
export function declaredLicense(manifest: Readonly<Record<string, unknown>>): string | undefined {
  const single = licenseText(manifest.license);
  if (single !== undefined) return single;
  if (!Array.isArray(manifest.licenses)) return undefined;
  const each = [...new Set(manifest.licenses.map(licenseText).filter((t): t is string => t !== undefined))];
  if (each.length <= 1) return each[0];
  const joined = each.map((t) => (/\s/.test(t) ? `(${t})` : t)).join(' OR ');
  return joined.length <= MAX_LICENSE_CHARS ? joined : undefined;
}

function licenseText(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value : isRecord(value) ? value.type : undefined;
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  return trimmed !== '' && trimmed.length <= MAX_LICENSE_CHARS ? trimmed : undefined;
}

function warningsOf(skipped: { large: number; unread: number; unreadable: number }, limits: InstalledLicenseLimits) {
  const warnings: string[] = [];
  if (skipped.unread > 0) {
    warnings.push(
      `stopped after reading ${limits.reads} installed package.json files (${skipped.unread} left): the npm packages not reached keep no license in the SBOM`,
    );
  }
  if (skipped.large > 0) {
    warnings.push(
      `${skipped.large} installed package.json file(s) over ${limits.fileBytes} bytes were not read for licenses`,
    );
  }
  if (skipped.unreadable > 0) {
    warnings.push(
      `${skipped.unreadable} installed package.json file(s) could not be read from the cache (missing or altered): their licenses are not in the SBOM`,
    );
  }
  return warnings;
}
