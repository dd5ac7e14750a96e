// The lockfiles Kiln reads, one reader each (with the companion files it needs: go.mod, pyproject.toml, package.json,
// `-r` includes), and those it names in a warning because it does not read them yet.
import { isKilnError, KilnError } from '../../core/errors.js';
import type { ComponentGraph } from '../graph.js';
import { readCargoLockfile } from './cargo/lockfile.js';
import { readGoModules } from './go/sum.js';
import { readNpmLockfile } from './npm/lockfile.js';
import type { NpmPlatform } from './npm/platform.js';
import type { PnpmProject } from './pnpm/lock-graph.js';
import { readPnpmLockfile } from './pnpm/lockfile.js';
import { pythonEnvironment } from './python/markers.js';
import { readPoetryLockfile } from './python/poetry.js';
import { readRequirementsTxt, requirementIncludes } from './python/requirements.js';
import { readUvLockfile } from './python/uv.js';
import { manifestIdentity, type WorkspaceSelection } from './workspace.js';
import { readYarnLockfile } from './yarn/lockfile.js';

/** A lockfile Kiln reads: where it is (relative to the project) and how it becomes a component graph. */
export interface LockfileReader {
  readonly path: string;
  /** Other project files it needs, given a file's text and path (go.mod beside go.sum, `-r` includes): read if present. */
  readonly companions?: (text: string, path: string) => readonly string[];
  read(text: string, path: string, ctx: ReadContext): ComponentGraph;
}

/** What a reader may need besides the lockfile: the platform (optional packages) and the project's package.json. */
export interface ReadContext {
  readonly platform: NpmPlatform;
  readonly manifest: { readonly text: string; readonly file: string } | undefined;
  /** The companion files that were found, by path relative to the project. */
  readonly companions: ReadonlyMap<string, string>;
  /** In a workspace, the package to describe and every package's package.json; else the whole project. */
  readonly workspace?: WorkspaceSelection | undefined;
  /** The project's name in kiln.yaml: names the root when package.json does not. */
  readonly projectName: string;
}

/** A companion file as the readers take it, when it was found. */
function companion(ctx: ReadContext, file: string): { text: string; file: string } | undefined {
  const text = ctx.companions.get(file);
  return text === undefined ? undefined : { text, file };
}

/** The lockfiles Kiln reads; when several are found, their graphs are merged into one SBOM. */
export const LOCKFILE_READERS: readonly LockfileReader[] = [
  {
    path: 'package-lock.json',
    read: (text, path, ctx) =>
      readNpmLockfile(text, path, {
        platform: ctx.platform,
        ...(ctx.manifest ? { manifest: ctx.manifest } : {}),
        ...(ctx.workspace ? { importer: ctx.workspace.importer } : {}),
      }),
  },
  {
    path: 'pnpm-lock.yaml',
    // pnpm-lock.yaml does not record the projects' names and versions: their package.json files do.
    read: (text, path, ctx) => {
      const projects: Record<string, PnpmProject> = {
        '.': manifestIdentity(ctx.manifest) ?? { name: ctx.projectName, version: '' },
      };
      for (const [dir, manifest] of ctx.workspace?.manifests ?? []) {
        const project = manifestIdentity(manifest);
        if (project) projects[dir] = project;
      }
      try {
        return readPnpmLockfile(text, path, {
          platform: ctx.platform,
          projects,
          ...(ctx.workspace ? { importer: ctx.workspace.importer, ownDevOnly: true } : {}),
        });
      } catch (err) {
        // The importer is a package of the workspace: a lockfile without it is out of date, not a wrong request.
        if (!isKilnError(err, 'KILN_USAGE') || ctx.workspace === undefined) throw err;
        throw new KilnError('KILN_LOCKFILE_INVALID', `${err.message}, though it is a package of the workspace`, {
          hint: 'pnpm-lock.yaml is out of date with pnpm-workspace.yaml: run `pnpm install` and commit it.',
          cause: err,
          details: err.details,
        });
      }
    },
  },
  {
    path: 'yarn.lock',
    // yarn.lock does not say which packages are the project's own, nor dev vs runtime: package.json does.
    read: (text, path, ctx) => {
      if (!ctx.manifest) {
        throw new KilnError(
          'KILN_LOCKFILE_INVALID',
          `${path} needs the project's package.json beside it, and there is none`,
          {
            hint: 'commit package.json with yarn.lock',
          },
        );
      }
      return readYarnLockfile(text, path, ctx.manifest, ctx.workspace);
    },
  },
  { path: 'Cargo.lock', read: (text, path) => readCargoLockfile(text, path) },
  {
    path: 'go.sum',
    // go.sum lists the modules; go.mod says which are direct and what is replaced or excluded.
    companions: () => ['go.mod'],
    read: (text, path, ctx) => {
      const goMod = companion(ctx, 'go.mod');
      if (!goMod) {
        throw new KilnError('KILN_LOCKFILE_INVALID', `${path} needs the module's go.mod beside it, and there is none`, {
          hint: 'commit go.mod with go.sum',
        });
      }
      return readGoModules(text, path, goMod);
    },
  },
  {
    path: 'poetry.lock',
    // poetry.lock does not record the project's name nor its direct dependencies: pyproject.toml does.
    companions: () => ['pyproject.toml'],
    read: (text, path, ctx) => {
      const pyproject = companion(ctx, 'pyproject.toml');
      return readPoetryLockfile(text, path, {
        environment: pythonEnvironment(ctx.platform),
        ...(pyproject ? { pyproject } : {}),
      });
    },
  },
  {
    path: 'uv.lock',
    read: (text, path, ctx) => readUvLockfile(text, path, { environment: pythonEnvironment(ctx.platform) }),
  },
  {
    path: 'requirements.txt',
    companions: (text, path) => (path.endsWith('.toml') ? [] : [...requirementIncludes(text, path), 'pyproject.toml']),
    read: (text, path, ctx) => {
      const pyproject = companion(ctx, 'pyproject.toml');
      const environment = pythonEnvironment(ctx.platform); // packages for another platform are not installed
      return readRequirementsTxt(text, path, {
        files: ctx.companions,
        environment,
        ...(pyproject ? { pyproject } : {}),
      });
    },
  },
];

/** Reads every companion the present lockfiles need (and those the companions need in turn), by project path. */
export async function readCompanions(
  present: readonly { reader: LockfileReader; bytes: Buffer }[],
  read: (path: string) => Promise<Buffer | undefined>,
): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const asked = new Set<string>();
  let wanted = present.flatMap((p) =>
    (p.reader.companions?.(p.bytes.toString('utf8'), p.reader.path) ?? []).map((path) => ({ path, reader: p.reader })),
  );
  while (wanted.length > 0 && asked.size < 100) {
    const next = wanted.filter((w) => !asked.has(w.path));
    for (const w of next) asked.add(w.path);
    const bytes = await Promise.all(next.map((w) => (w.path.startsWith('../') ? undefined : read(w.path))));
    wanted = next.flatMap((w, i) => {
      const b = bytes[i];
      if (b === undefined) return [];
      found.set(w.path, b);
      return (w.reader.companions?.(b.toString('utf8'), w.path) ?? []).map((path) => ({ path, reader: w.reader }));
    });
  }
  return found;
}

/** Lockfiles of formats Kiln does not read yet: one found is named in a warning, never silently left out. */
export const UNREAD_LOCKFILES = ['npm-shrinkwrap.json', 'bun.lockb', 'Pipfile.lock', 'Gemfile.lock', 'composer.lock'];
