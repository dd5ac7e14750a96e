// Restoring a cached output tree: everything is fetched and verified in a staging dir first, then renamed into place.
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256Digest, sha256File } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { linkStaysInside } from '../../package/paths.js';
import { pathExists } from '../../platform/fsutil.js';
import { forEachLimit } from '../limit.js';
import type { BlobStore } from '../types.js';
import { corrupt, type OutputTree, type TreeEntry } from './tree.js';

const PARALLEL_FILES = 8;
/** Files above this size are streamed to disk (when the store can) instead of passing through memory. */
const STREAM_ABOVE = 4 << 20;

/** What a restore put back: the figures that feed a build's `bytesRestored`. */
export interface RestoreResult {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Recreates `tree` under `root` bit for bit (content, executable bit, symlinks, empty dirs), replacing what is there.
 * A missing or corrupt blob throws KILN_CACHE_CORRUPT before anything under `root` changed; each top-level output
 * appears whole or not at all (staged next to it, then renamed into place).
 */
export async function restoreOutputs(tree: OutputTree, root: string, cas: BlobStore): Promise<RestoreResult> {
  await fsp.mkdir(root, { recursive: true });
  const tops = topLevel(tree);
  for (const top of tops) await checkParents(root, top, false);
  const staging = await fsp.mkdtemp(join(root, '.kiln-restore-'));
  try {
    const staged = join(staging, 'new');
    const bytes = await stage(tree, staged, cas);
    const old = join(staging, 'old');
    await fsp.mkdir(old);
    for (const [i, top] of tops.entries()) {
      await checkParents(root, top, true);
      await swapIn(join(staged, top), join(root, top), join(old, String(i)));
    }
    return Object.freeze({ files: tree.entries.filter((e) => e.kind === 'file').length, bytes });
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

async function stage(tree: OutputTree, staged: string, cas: BlobStore): Promise<number> {
  await fsp.mkdir(staged);
  // Sorted order puts every directory before what it holds; parents that are not entries themselves come first.
  for (const entry of tree.entries) {
    await fsp.mkdir(entry.kind === 'dir' ? join(staged, entry.path) : dirname(join(staged, entry.path)), {
      recursive: true,
    });
  }
  let bytes = 0;
  const files = tree.entries.filter((e): e is Extract<TreeEntry, { kind: 'file' }> => e.kind === 'file');
  await forEachLimit(files, PARALLEL_FILES, async (entry) => {
    const size = await fetchFile(entry, join(staged, entry.path), cas);
    bytes += size; // not `bytes += await …`: that reads `bytes` before the await and loses parallel additions
  });
  const links = tree.entries.filter((e): e is Extract<TreeEntry, { kind: 'symlink' }> => e.kind === 'symlink');
  for (const link of links) await fsp.symlink(link.target, join(staged, link.path));
  // The same check capture made, now against the restored layout: a cached link must not lead out of the root.
  const stagedReal = await fsp.realpath(staged);
  for (const link of links) {
    if (!(await linkStaysInside(stagedReal, join(staged, link.path), link.target))) {
      throw corrupt(`cached output ${link.path} is a symlink to ${link.target}, which leaves the step's directory`);
    }
  }
  return bytes;
}

/** Writes one file from the store and checks it: the store is never trusted, whatever backend it is. */
async function fetchFile(entry: Extract<TreeEntry, { kind: 'file' }>, dest: string, cas: BlobStore): Promise<number> {
  const missing = () => corrupt(`blob ${entry.digest} for cached output ${entry.path} is not in the cache`);
  let actual: { digest: string; size: number };
  if (entry.size > STREAM_ABOVE && cas.getBlobToFile) {
    if (!(await cas.getBlobToFile(entry.digest, dest))) throw missing();
    actual = await sha256File(dest);
  } else {
    const data = await cas.getBlob(entry.digest);
    if (data === undefined) throw missing();
    actual = { digest: sha256Digest(data), size: data.length };
    if (actual.digest === entry.digest) await fsp.writeFile(dest, data, { flag: 'wx' });
  }
  if (actual.digest !== entry.digest || actual.size !== entry.size) {
    throw corrupt(
      `cached output ${entry.path} should be ${entry.digest} (${entry.size} bytes) but the cache returned ` +
        `${actual.digest} (${actual.size} bytes)`,
    );
  }
  await fsp.chmod(dest, entry.executable ? 0o755 : 0o644);
  return entry.size;
}

/** Moves what is at `dest` aside, then the staged output into place; puts the old one back if that fails. */
async function swapIn(staged: string, dest: string, aside: string): Promise<void> {
  const hadOld = await pathExists(dest);
  if (hadOld) await fsp.rename(dest, aside);
  try {
    await fsp.rename(staged, dest);
  } catch (err) {
    if (hadOld) await fsp.rename(aside, dest).catch(() => undefined);
    throw new KilnError('KILN_IO', `cannot move the restored output into place at ${dest}`, { cause: err });
  }
}

/** Entries with no ancestor in the tree: the units that get swapped into place. */
function topLevel(tree: OutputTree): string[] {
  const paths = new Set(tree.entries.map((e) => e.path));
  return tree.entries
    .map((e) => e.path)
    .filter((path) => {
      for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
        if (paths.has(path.slice(0, i))) return false;
      }
      return true;
    });
}

/** Checks (and with `create`, makes) the parents of an output, refusing to write through a symlink or over a file. */
async function checkParents(root: string, rel: string, create: boolean): Promise<void> {
  let current = root;
  for (const part of rel.split('/').slice(0, -1)) {
    current = join(current, part);
    const st = await fsp.lstat(current).catch(() => undefined);
    if (st === undefined) {
      if (!create) return;
      await fsp.mkdir(current);
    } else if (!st.isDirectory()) {
      const what = st.isSymbolicLink() ? 'a symlink' : 'not a directory';
      throw new KilnError('KILN_PACKAGE_UNSAFE', `cannot restore ${rel}: ${current} is ${what}`, {
        hint: 'remove it from the step directory; Kiln never writes outputs through links',
      });
    }
  }
}
