// Workspace patterns (`packages/*`, `apps/**`, `!**/test/**`) matched over directory listings: Node 20 has no fs.glob.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../core/errors.js';

/** Lists the names of the subdirectories of an absolute directory (none when it does not exist); symlinks are not followed. */
export type ListDirs = (absDir: string) => Promise<string[]>;

/** Expands workspace patterns to the relative POSIX directories they match, sorted; the project root is never included. */
export type WorkspaceGlob = (projectDir: string, patterns: readonly string[]) => Promise<string[]>;

/** Subdirectories through the real file system. */
export const listDirsOnDisk: ListDirs = async (absDir) => {
  try {
    const entries = await fsp.readdir(absDir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return [];
    }
    throw err;
  }
};

/**
 * Directories matched by the positive patterns and by none of the `!` ones, like npm, yarn and pnpm do:
 * `*` and `?` stay within one path segment and skip dot-directories, `**` spans any number of segments
 * (including none), `{a,b}` is an alternative; `node_modules` is never entered.
 */
export async function globWorkspaceDirs(
  projectDir: string,
  patterns: readonly string[],
  listDirs: ListDirs = listDirsOnDisk,
): Promise<string[]> {
  const positive: RegExp[][] = [];
  const negative: RegExp[][] = [];
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const segments = splitPattern(negated ? raw.slice(1) : raw).map(segmentRegex);
    (negated ? negative : positive).push(segments);
  }
  const found = new Set<string>();
  const listings = new Map<string, Promise<string[]>>();
  const list = (rel: string) => {
    let names = listings.get(rel);
    if (!names) {
      names = listDirs(rel ? join(projectDir, rel) : projectDir);
      listings.set(rel, names);
    }
    return names;
  };
  const walk = async (rel: string, segments: readonly RegExp[]): Promise<void> => {
    const [head, ...rest] = segments;
    if (head === undefined) {
      if (rel) found.add(rel);
      return;
    }
    if (head === GLOBSTAR) {
      await walk(rel, rest);
      for (const name of await list(rel)) {
        if (!name.startsWith('.') && name !== 'node_modules') await walk(child(rel, name), segments);
      }
      return;
    }
    const dotted = head.source.startsWith('^\\.');
    for (const name of await list(rel)) {
      if (name === 'node_modules' || (name.startsWith('.') && !dotted)) continue;
      if (head.test(name)) await walk(child(rel, name), rest);
    }
  };
  for (const segments of positive) await walk('', segments);
  const excluded = (dir: string) => negative.some((neg) => matchSegments(neg, dir.split('/')));
  return [...found].filter((dir) => !excluded(dir)).sort();
}

/** Normalizes a pattern to its segments; refuses absolute patterns and `..` (a workspace stays inside the project). */
function splitPattern(pattern: string): string[] {
  const clean = pattern
    .trim()
    .replace(/^(\.\/)+/, '')
    .replace(/\/package\.json$/, '')
    .replace(/\/+$/, '');
  const segments = clean.split('/').filter((s) => s !== '' && s !== '.');
  if (pattern.trim().startsWith('/') || segments.includes('..')) {
    throw new KilnError('KILN_CONFIG_INVALID', `workspace pattern "${pattern}" points outside the project`, {
      hint: 'workspace patterns are relative to the project root, e.g. "packages/*"; remove the leading "/" or ".."',
    });
  }
  return segments;
}

/** Whether the whole path matches the segment regexes (`**` as a null regex spanning any segments). */
function matchSegments(pattern: readonly RegExp[], path: readonly string[]): boolean {
  const [head, ...rest] = pattern;
  if (head === undefined) return path.length === 0;
  if (head === GLOBSTAR) {
    for (let i = 0; i <= path.length; i++) if (matchSegments(rest, path.slice(i))) return true;
    return false;
  }
  const [first, ...others] = path;
  return first !== undefined && head.test(first) && matchSegments(rest, others);
}

const GLOBSTAR = /^(?:)$/;

function segmentRegex(segment: string): RegExp {
  if (segment === '**') return GLOBSTAR;
  let re = '';
  let depth = 0;
  for (const c of segment) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      depth++;
      re += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      re += ')';
    } else if (c === ',' && depth > 0) re += '|';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  if (depth > 0) {
    throw new KilnError('KILN_CONFIG_INVALID', `workspace pattern segment "${segment}" has an unclosed "{"`, {
      hint: 'close the alternative, e.g. "{apps,packages}/*"',
    });
  }
  return new RegExp(`^${re}$`);
}

function child(rel: string, name: string): string {
  return rel ? `${rel}/${name}` : name;
}
