// Which project of a workspace an SBOM describes, and what the lockfiles leave to the packages' package.json files.

/** A package.json as read from the project: its text and the path problems name it by. */
export interface ManifestText {
  readonly text: string;
  readonly file: string;
}

/**
 * The workspace project an SBOM describes: the package an artifact was built from (its directory relative to the
 * project, as pnpm's `importers` and npm's `packages` name it), or '.' for the root project alone; and the package.json
 * of every workspace package, which name and version them (lockfiles do not all record that) and say which of their
 * dependencies are dev ones.
 */
export interface WorkspaceSelection {
  readonly importer: string;
  /** Directory (relative to the project, never '.') → that package's package.json. */
  readonly manifests: ReadonlyMap<string, ManifestText>;
}

/** Name and version of a package.json; '' for what it does not give (a private root often has no version). */
export function manifestIdentity(manifest: ManifestText | undefined): { name: string; version: string } | undefined {
  try {
    const { name, version } = JSON.parse(manifest?.text ?? '') as { name?: unknown; version?: unknown };
    if (typeof name !== 'string' || name === '') return undefined;
    return { name, version: typeof version === 'string' ? version : '' };
  } catch {
    return undefined;
  }
}

/** Dependency fields of a package.json, by name: runtime, optional, and dev (installed only to build the package). */
export type ManifestSection = 'dependencies' | 'optionalDependencies' | 'devDependencies';

/** The ranges a package.json gives in `section` (none when it is absent or malformed: its reader reports that). */
export function manifestDependencies(manifest: ManifestText | undefined, section: ManifestSection): [string, string][] {
  try {
    const deps = (JSON.parse(manifest?.text ?? '') as Record<string, unknown>)[section];
    if (deps === null || typeof deps !== 'object') return [];
    return Object.entries(deps).filter((e): e is [string, string] => typeof e[1] === 'string');
  } catch {
    return [];
  }
}
