// Capturing a step's declared outputs into the CAS: walk them without following links, store each file once.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { sha256Digest, sha256File } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { deepFreeze } from '../../core/json.js';
import { linkStaysInside } from '../../package/paths.js';
import { forEachLimit } from '../limit.js';
import { SMALL_BLOB } from '../local/files.js';
import type { BlobStore } from '../types.js';
import { isSafeRelPath, type OutputTree, type TreeEntry, treeBytes, treeDigest } from './tree.js';

const PARALLEL_FILES = 8;

type Found = { kind: 'file'; path: string; executable: boolean } | Exclude<TreeEntry, { kind: 'file' }>;

/** Stores the outputs `paths` (relative to `root`) and their tree in `cas`; the tree's digest is `treeDigest(tree)`. */
export async function captureOutputs(root: string, paths: readonly string[], cas: BlobStore): Promise<OutputTree> {
  const rootReal = await fsp.realpath(root);
  const found = new Map<string, Found>();
  for (const declared of paths) {
    const rel = normalizeOutputPath(declared);
    await checkParents(root, rel, declared);
    await walk(root, rootReal, rel, declared, found);
  }
  const sorted = [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const entries: TreeEntry[] = new Array(sorted.length);
  await forEachLimit([...sorted.keys()], PARALLEL_FILES, async (i) => {
    const item = sorted[i] as Found;
    entries[i] = item.kind === 'file' ? await storeFile(join(root, item.path), item.path, item.executable, cas) : item;
  });
  const tree = deepFreeze({ entries });
  await cas.putBlob(treeDigest(tree), treeBytes(tree));
  return tree;
}

async function storeFile(abs: string, path: string, executable: boolean, cas: BlobStore): Promise<TreeEntry> {
  const data = await readIfSmall(abs);
  if (data !== undefined) {
    // Read once: the digest is of exactly the bytes handed to the store, however the file changes afterwards.
    const digest = sha256Digest(data);
    await cas.putBlob(digest, data);
    return { kind: 'file', path, digest, size: data.length, executable };
  }
  const { digest, size } = await sha256File(abs);
  // The store re-hashes what it copied, so a file that changed since it was hashed is refused, not mislabelled.
  if (cas.putBlobFromFile) await cas.putBlobFromFile(digest, abs);
  else await cas.putBlob(digest, await fsp.readFile(abs));
  return { kind: 'file', path, digest, size, executable };
}

/** The whole file when it is at most SMALL_BLOB bytes, else undefined (it gets streamed instead). */
async function readIfSmall(abs: string): Promise<Buffer | undefined> {
  const fh = await fsp.open(abs, 'r');
  try {
    return (await fh.stat()).size <= SMALL_BLOB ? await fh.readFile() : undefined;
  } finally {
    await fh.close();
  }
}

async function walk(root: string, rootReal: string, rel: string, declared: string, found: Map<string, Found>) {
  const abs = join(root, rel);
  const st = await fsp.lstat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    throw new KilnError('KILN_OUTPUT_MISSING', `output ${declared} was not produced (no ${rel} after the step ran)`, {
      hint: 'make the step write this path, or remove it from the step outputs',
    });
  });
  if (st.isSymbolicLink()) {
    const target = await fsp.readlink(abs);
    if (!(await linkStaysInside(rootReal, abs, target))) {
      throw unsafe(`output ${rel} is a symlink to ${target}, which leaves the step's directory`, declared);
    }
    found.set(rel, { kind: 'symlink', path: rel, target });
  } else if (st.isFile()) {
    found.set(rel, { kind: 'file', path: rel, executable: (st.mode & 0o111) !== 0 });
  } else if (st.isDirectory()) {
    found.set(rel, { kind: 'dir', path: rel });
    for (const name of (await fsp.readdir(abs)).sort()) await walk(root, rootReal, `${rel}/${name}`, declared, found);
  } else {
    throw unsafe(`output ${rel} is neither a file, a directory nor a symlink`, declared);
  }
}

/** `dist/`, `./dist` → `dist`; refuses anything that is not a path strictly inside the root. */
function normalizeOutputPath(declared: string): string {
  const rel = declared
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.')
    .join('/');
  if (declared.startsWith('/') || !isSafeRelPath(rel)) {
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `output path ${JSON.stringify(declared)} is not a path inside the step`,
      {
        hint: 'declare outputs as relative paths below the step directory, without ".." (e.g. dist or out/app.js)',
      },
    );
  }
  return rel;
}

/** Refuses outputs reached through a symlink: `out/x` with `out -> /etc` must not copy /etc/x into the cache. */
async function checkParents(root: string, rel: string, declared: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    const st = await fsp.lstat(current).catch(() => undefined);
    if (st?.isSymbolicLink())
      throw unsafe(`output ${rel} lies under the symlink ${current.slice(root.length + 1)}`, declared);
  }
}

function unsafe(message: string, declared: string): KilnError {
  return new KilnError('KILN_PACKAGE_UNSAFE', message, {
    hint: `make the step write real files for the output ${declared}; links may only point inside the step directory`,
  });
}
