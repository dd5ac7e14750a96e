// Deterministic tar.gz of a directory, streamed: memory does not grow with the size of the files.
import { createHash } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { renameDurable, tempPathFor } from '../platform/fsutil.js';
import { DeterministicGzip } from './gzip.js';
import { linkStaysInside } from './paths.js';
import { padding, type TarEntry, tarHeader, tarTrailer } from './tar.js';

/** What a packaging step produced. */
export interface PackedArtifact {
  readonly path: string;
  readonly digest: Digest;
  readonly size: number;
}

/** Packs `srcDir` into `destFile` (tar.gz, sorted, mtime = `mtime`, uid/gid 0, normalized modes), atomically. */
export async function packDirectory(srcDir: string, destFile: string, mtime: number): Promise<PackedArtifact> {
  const entries = await listTree(srcDir);
  return writeAtomically(
    destFile,
    async function* () {
      for (const entry of entries) {
        yield tarHeader(entry, mtime);
        if (entry.kind !== 'file') continue;
        let read = 0;
        for await (const chunk of readNoFollow(join(srcDir, entry.path))) {
          read += chunk.length;
          yield chunk;
        }
        if (read !== entry.size) {
          throw new KilnError('KILN_PACKAGE_UNSAFE', `${entry.path} changed size while it was being packaged`, {
            hint: 'make sure no step is still writing into the output directory',
          });
        }
        yield Buffer.alloc(padding(read));
      }
      yield tarTrailer();
    },
    true,
  );
}

/** Copies a single-file artifact as is, atomically. */
export async function copyFileArtifact(srcFile: string, destFile: string): Promise<PackedArtifact> {
  const stat = await fsp.lstat(srcFile);
  if (!stat.isFile()) {
    throw new KilnError('KILN_PACKAGE_UNSAFE', `${srcFile} is not a regular file`, {
      hint: 'use format: tgz for directories; format: file needs the path of one regular file',
    });
  }
  return writeAtomically(destFile, () => readNoFollow(srcFile), false);
}

/** Every member under `root` in sorted (byte-wise, depth-first) order; refuses what cannot be packaged safely. */
export async function listTree(root: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const rootReal = await fsp.realpath(root);
  const walk = async (rel: string): Promise<void> => {
    const names = (await fsp.readdir(join(root, rel))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const stat = await fsp.lstat(join(root, path));
      if (stat.isDirectory()) {
        out.push({ kind: 'dir', path });
        await walk(path);
      } else if (stat.isFile()) {
        out.push({ kind: 'file', path, size: stat.size, executable: (stat.mode & 0o111) !== 0 });
      } else if (stat.isSymbolicLink()) {
        const target = await fsp.readlink(join(root, path));
        if (!(await linkStaysInside(rootReal, join(rootReal, path), target))) {
          throw new KilnError(
            'KILN_PACKAGE_UNSAFE',
            `symlink ${path} → ${target} points outside the output directory`,
            {
              hint: 'make the link relative to a file inside the output, or copy the file it points to',
            },
          );
        }
        out.push({ kind: 'symlink', path, target });
      } else {
        throw new KilnError('KILN_PACKAGE_UNSAFE', `${path} in ${root} is not a file, directory or symlink`, {
          hint: 'remove sockets, FIFOs and device files from the output directory',
        });
      }
    }
  };
  await walk('');
  return out;
}

/** Reads a file without following a symlink swapped in after it was listed. */
async function* readNoFollow(path: string): AsyncGenerator<Buffer> {
  const fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) yield chunk as Buffer;
  } finally {
    await fh.close();
  }
}

async function writeAtomically(
  destFile: string,
  source: () => AsyncGenerator<Buffer>,
  gzip: boolean,
): Promise<PackedArtifact> {
  const tmp = tempPathFor(destFile);
  const fh = await fsp.open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  const hash = createHash('sha256');
  let size = 0;
  const write = async (chunks: Buffer[]) => {
    for (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      await fh.write(chunk);
    }
  };
  try {
    const gz = gzip ? new DeterministicGzip() : undefined;
    for await (const chunk of source()) await write(gz ? gz.push(chunk) : [chunk]);
    if (gz) await write(gz.finish());
    await fh.sync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await renameDurable(tmp, destFile);
  return { path: destFile, digest: `sha256:${hash.digest('hex')}`, size };
}
