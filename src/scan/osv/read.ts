// Reads OSV records for `kiln db import` from a directory tree or a ZIP dump (OSV's <ECOSYSTEM>/all.zip), checking each;
// a bad file becomes a rejected result listing every problem, never a silent skip and never an aborted import.
import { constants, type Dirent, type Stats } from 'node:fs';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { KilnError } from '../../core/errors.js';
import { nestingDepth } from '../../core/json.js';
import type { OsvRecord } from './types.js';
import { checkOsvRecord } from './validate.js';
import { DEFAULT_MAX_ZIP_ENTRY_BYTES, readZipEntries } from './zip.js';

/** One record read, or one file (or array element) refused; `origin` says where: `dir/rel.json`, `all.zip:ID.json`. */
export type OsvReadResult =
  | { readonly kind: 'record'; readonly record: OsvRecord; readonly origin: string }
  | { readonly kind: 'rejected'; readonly origin: string; readonly problems: readonly string[] };

/** Limits of a read: a file (or zip entry) larger than `maxFileBytes` is refused unread. */
export interface OsvReadOptions {
  readonly maxFileBytes?: number;
}

const SOURCE_HINT =
  'Pass a directory of OSV JSON files or an OSV zip dump, e.g. https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip';
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Far deeper than any real record (osv.dev's nest about 6 levels), far shallower than what overflows the stack. */
const MAX_RECORD_DEPTH = 64;

/**
 * Yields a result for every `*.json` file under `source` (a directory, walked recursively in path order, a ZIP
 * archive, in archive order, or one JSON file). A file holds one record or, as osv.dev's importer also accepts, an array of them.
 */
export async function* readOsvRecords(source: string, opts: OsvReadOptions = {}): AsyncGenerator<OsvReadResult> {
  const max = opts.maxFileBytes ?? DEFAULT_MAX_ZIP_ENTRY_BYTES;
  const kind = await sourceKind(source);
  if (kind === 'file') {
    const read = await readBounded(source, max);
    const origin = basename(source);
    if (typeof read === 'string') yield { kind: 'rejected', origin, problems: [`(file): ${read}`] };
    else yield* resultsOf(read, origin);
    return;
  }
  if (kind === 'zip') {
    const zip = basename(source);
    for await (const entry of readZipEntries(source, { maxEntryBytes: max })) {
      if (isJsonName(entry.name)) yield* resultsOf(entry.bytes, `${zip}:${entry.name}`);
    }
    return;
  }
  for (const path of await jsonFilesUnder(source)) {
    const read = await readBounded(join(source, path), max);
    if (typeof read === 'string') yield { kind: 'rejected', origin: path, problems: [`(file): ${read}`] };
    else yield* resultsOf(read, path);
  }
}

async function sourceKind(source: string): Promise<'dir' | 'zip' | 'file'> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(source);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    const what = missing ? 'does not exist' : `cannot be read (${(cause as Error).message})`;
    throw new KilnError(missing ? 'KILN_NOT_FOUND' : 'KILN_IO', `OSV source ${source} ${what}`, {
      cause,
      hint: SOURCE_HINT,
    });
  }
  if (info.isDirectory()) return 'dir';
  if (info.isFile() && (/\.zip$/i.test(source) || (await startsLikeZip(source)))) return 'zip';
  if (info.isFile() && isJsonName(source)) return 'file'; // one record, or an array of them (curl's vuln.json)
  throw new KilnError('KILN_USAGE', `OSV source ${source} is neither a directory, a ZIP archive nor a .json file`, {
    hint: SOURCE_HINT,
  });
}

/** True when the file starts with a local file header or an empty archive's end record ("PK\3\4", "PK\5\6"). */
async function startsLikeZip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    const magic = bytesRead === 4 ? buffer.readUInt32LE(0) : 0;
    return magic === 0x04034b50 || magic === 0x06054b50;
  } finally {
    await fh.close();
  }
}

/** Paths (relative, `/`-separated) of every `*.json` file under `root`, sorted by code unit; symlinked dirs are not followed. */
async function jsonFilesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, dir), { withFileTypes: true });
    } catch (cause) {
      throw new KilnError('KILN_IO', `cannot list ${join(root, dir)}: ${(cause as Error).message}`, {
        cause,
        hint: 'Make the whole OSV directory readable, or import a copy of it.',
      });
    }
    for (const entry of entries) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (isJsonName(entry.name)) found.push(path);
    }
  };
  await walk('');
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The file's bytes, or why it was not read (not a regular file, too large, unreadable): that file is rejected, the
 * import goes on. The type is judged on the opened file, so a symlink to /dev/zero or a FIFO (opened without waiting
 * for a writer) is refused, and no more bytes are read than the file had when opened (plus one, to see it grow).
 */
async function readBounded(path: string, max: number): Promise<Buffer | string> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await fh.stat();
    if (!info.isFile()) return `is ${fileKind(info)}, not a regular file: only regular files are read`;
    if (info.size > max) return `is ${info.size} bytes, more than the ${max}-byte limit for one file`;
    const buf = Buffer.alloc(info.size + 1); // one byte more than said: a file that grows is caught, not followed
    let got = 0;
    let n: number;
    do {
      n = (await fh.read(buf, got, buf.length - got)).bytesRead;
      got += n;
    } while (n > 0 && got < buf.length);
    if (got > info.size) return `grew past the ${info.size} bytes it had while it was read`;
    return buf.subarray(0, got);
  } catch (err) {
    return `cannot be read (${(err as Error).message})`;
  } finally {
    await fh?.close();
  }
}

function fileKind(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Results for one file's bytes: one per record, or one rejection naming what is wrong with the file itself. */
function* resultsOf(bytes: Buffer, origin: string): Generator<OsvReadResult> {
  let text: string;
  let doc: unknown;
  try {
    text = UTF8.decode(bytes);
  } catch {
    yield { kind: 'rejected', origin, problems: ['(file): is not UTF-8 text'] };
    return;
  }
  try {
    doc = JSON.parse(text);
  } catch (err) {
    yield { kind: 'rejected', origin, problems: [`(file): is not JSON (${(err as Error).message})`] };
    return;
  }
  if (!Array.isArray(doc)) {
    yield resultOf(doc, origin);
  } else if (doc.length === 0) {
    yield { kind: 'rejected', origin, problems: ['(file): is an empty array; it holds no OSV record'] };
  } else {
    for (const [i, item] of doc.entries()) yield resultOf(item, `${origin}[${i}]`);
  }
}

function resultOf(doc: unknown, origin: string): OsvReadResult {
  // Checked first: the schema validator and the store's serializer recurse, and a few thousand levels overflow them.
  const depth = nestingDepth(doc);
  if (depth > MAX_RECORD_DEPTH) {
    const why = `(record): nests ${depth} levels deep, more than the ${MAX_RECORD_DEPTH} an OSV record may`;
    return { kind: 'rejected', origin, problems: [why] };
  }
  const check = checkOsvRecord(doc);
  return check.kind === 'valid'
    ? { kind: 'record', record: check.record, origin }
    : { kind: 'rejected', origin, problems: check.problems };
}

function isJsonName(name: string): boolean {
  return /\.json$/i.test(name);
}
