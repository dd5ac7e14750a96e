// Go go.mod + go.sum → ComponentGraph: the modules a build downloads, direct ones from go.mod, replace/exclude applied.
import { sha256Digest } from '../../../core/digest.js';
import { encodePurlComponent } from '../../../ecosystems/purl.js';
import { assembleGraph, type ComponentGraph, type InstalledPackage, lockfileInvalid } from '../../graph.js';
import { type GoModFile, type GoReplace, parseGoMod } from './modfile.js';

/** One go.sum line: `module version[/go.mod] h1:base64`. */
interface SumLine {
  readonly path: string;
  readonly version: string;
  readonly goModOnly: boolean;
}

const SUM_RE = /^(\S+) (v\S+?)(\/go\.mod)? h1:[A-Za-z0-9+/]{43}=$/;
const HINT = 'Regenerate them with `go mod tidy` and commit go.mod and go.sum together.';

/**
 * `pkg:golang/namespace/name@version`: the module path split at its last `/`, lowercased as the purl spec's golang
 * type requires, each segment percent-encoded (`+incompatible` becomes `%2Bincompatible`); no `@` without a version.
 */
export function golangPurl(path: string, version: string): string {
  const segments = path.toLowerCase().split('/').map(encodePurlComponent).join('/');
  return version === '' ? `pkg:golang/${segments}` : `pkg:golang/${segments}@${encodePurlComponent(version)}`;
}

/**
 * Reads a module's go.sum with its go.mod into a frozen ComponentGraph. Pure.
 * - Components: the modules go.sum lists with a hash of their content (a line without `/go.mod`): those are what
 *   the build downloads; lines for `/go.mod` alone are only read while resolving versions. Modules that go.mod
 *   `exclude`s or `replace`s are left out (Go never downloads them); a module replaced by a directory is listed
 *   with no version, as it is source in the repository.
 * - Direct: go.mod's `require` lines without `// indirect`, through `replace`.
 * - Hashes: none. go.sum's `h1:` is SHA-256 over a listing of the module's files (a dirhash), not a hash of any
 *   archive, so it cannot stand as a component hash; go.sum itself is named by digest as the lockfile.
 * - Edges: none, and every module is `runtime`: go.sum records no dependency graph and no test-only marking.
 */
export function readGoModules(
  goSum: string,
  goSumFile: string,
  goMod: { readonly text: string; readonly file: string },
): ComponentGraph {
  const { mod, problems } = parseGoMod(goMod.text, goMod.file);
  const lines = sumLines(goSum, goSumFile, problems);
  if (mod === undefined || problems.length > 0) {
    throw lockfileInvalid(`${goMod.file} and ${goSumFile}`, 'Go module', problems, HINT, {
      files: [goMod.file, goSumFile],
    });
  }
  const excluded = new Set(mod.excludes.map((e) => `${e.path}@${e.version}`));
  const installed = new Map<string, InstalledPackage>();
  for (const l of lines) {
    if (l.goModOnly || excluded.has(`${l.path}@${l.version}`) || replacedAway(mod, l)) continue;
    const purl = golangPurl(l.path, l.version);
    installed.set(purl, { name: l.path, version: l.version, purl, scope: 'runtime', hashes: [], dependsOn: [] });
  }
  const direct: string[] = [];
  for (const req of mod.requires) {
    const r = replacementOf(mod, req.path, req.version);
    const [name, version] =
      r === undefined ? [req.path, req.version] : r.to.kind === 'module' ? [r.to.path, r.to.version] : [req.path, ''];
    const purl = golangPurl(name, version);
    if (r?.to.kind === 'dir') installed.set(purl, { name, version, purl, scope: 'runtime', hashes: [], dependsOn: [] });
    if (!req.indirect && installed.has(purl)) direct.push(purl);
  }
  return assembleGraph({
    root: { name: mod.module, version: '', ref: golangPurl(mod.module, '') },
    rootDependsOn: direct,
    installed: [...installed.values()],
    lockfile: { path: goSumFile, digest: sha256Digest(goSum) },
  });
}

/** The replace directive that applies to path@version: one naming that version wins over one for every version. */
function replacementOf(mod: GoModFile, path: string, version: string): GoReplace | undefined {
  const forPath = mod.replaces.filter((r) => r.path === path);
  return forPath.find((r) => r.version === version) ?? forPath.find((r) => r.version === undefined);
}

/** True when go.mod replaces path@version by something else (a pin like `m => m v1.2.3` keeps v1.2.3 itself). */
function replacedAway(mod: GoModFile, l: SumLine): boolean {
  const r = replacementOf(mod, l.path, l.version);
  return r !== undefined && !(r.to.kind === 'module' && r.to.path === l.path && r.to.version === l.version);
}

function sumLines(text: string, file: string, problems: string[]): SumLine[] {
  const out: SumLine[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '');
    const m = SUM_RE.exec(line);
    if (m?.[1] && m[2]) out.push({ path: m[1], version: m[2], goModOnly: m[3] !== undefined });
    else if (line.trim() !== '') {
      const shown = line.length > 80 ? `${line.slice(0, 77)}…` : line;
      problems.push(`${file}:${i + 1}: expected "module version[/go.mod] h1:<44 base64 characters>", found "${shown}"`);
    }
  }
  return out;
}
