// A minimal ZIP reader for OSV's all.zip dumps: entry by entry through a FileHandle, stored and deflated entries only,
// every CRC-32 and size checked, and nothing inflated past the size the archive declares (APPNOTE.TXT 6.3.10).
import { type FileHandle, open } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { KilnError } from '../../core/errors.js';
import { escapeForTerminal } from '../../core/terminal.js';

/** One file of an archive: its name as stored (never sanitized for extraction) and its checked content. */
export interface ZipEntry {
  readonly name: string;
  readonly bytes: Buffer;
}

/** Limits of a read; an entry declaring more than `maxEntryBytes` uncompressed is refused, not inflated. */
export interface ZipReadOptions {
  readonly maxEntryBytes?: number;
}

/** The largest entry read by default: far above any OSV record, far below what would strain memory. */
export const DEFAULT_MAX_ZIP_ENTRY_BYTES = 64 * 1024 * 1024;

const SIG = { local: 0x04034b50, central: 0x02014b50, end: 0x06054b50, end64: 0x06064b50, locator64: 0x07064b50 };
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const METHOD_NAMES: Readonly<Record<number, string>> = { 9: 'deflate64', 12: 'bzip2', 14: 'LZMA', 93: 'zstd' };
const DAMAGED = 'The archive is damaged or truncated: download it again (`unzip -t <zip>` shows the same problem).';

interface CentralEntry {
  readonly name: string;
  readonly nameBytes: Buffer;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

interface CentralDirectory {
  readonly offset: number;
  readonly end: number;
  readonly count: number;
}

/** Yields every file entry of the ZIP archive at `path` in central-directory order; directory entries are skipped. */
export async function* readZipEntries(path: string, opts: ZipReadOptions = {}): AsyncGenerator<ZipEntry> {
  const max = opts.maxEntryBytes ?? DEFAULT_MAX_ZIP_ENTRY_BYTES;
  const fh = await openZip(path);
  try {
    const fail = failure(path);
    const dir = await findCentralDirectory(fh, (await fh.stat()).size, fail);
    const cursor = new Cursor(fh, dir.offset, dir.end, fail);
    let free = 0; // first byte not yet claimed by an entry: local headers must not overlap (zip bombs overlap them)
    for (let i = 0; i < dir.count; i++) {
      const entry = await readCentralEntry(cursor, i, fail);
      if (entry.localOffset < free) fail(`its local header at ${entry.localOffset} overlaps the entry before`, entry);
      checkCentral(entry, max, fail);
      const { local, data, end } = await readLocal(fh, entry, dir.offset, fail);
      free = end;
      checkLocal(entry, local, fail);
      const bytes = inflate(entry, data, fail);
      if (!entry.name.endsWith('/')) yield { name: entry.name, bytes };
    }
    if (cursor.pos !== dir.end)
      fail(`its central directory has ${dir.end - cursor.pos} bytes after its ${dir.count} entries`);
  } finally {
    await fh.close();
  }
}

/** CRC-32 (ISO-HDLC, as ZIP uses it) by table, for Node versions without zlib.crc32 (before 20.15 / 22.2). */
export function tableCrc32(data: Uint8Array): number {
  CRC_TABLE ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  let crc = U32_MAX;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ U32_MAX) >>> 0;
}

let CRC_TABLE: Uint32Array | undefined;
const crc32: (data: Uint8Array) => number = typeof zlib.crc32 === 'function' ? (d) => zlib.crc32(d) : tableCrc32;

type Fail = (what: string, entry?: CentralEntry, hint?: string) => never;

function failure(zip: string): Fail {
  return (what, entry, hint = DAMAGED) => {
    // Entry names are the archive's to choose: shown escaped, so one cannot end the line or steer the terminal.
    const where = entry === undefined ? zip : `${zip}, entry "${escapeForTerminal(entry.name)}"`;
    throw new KilnError('KILN_IO', `cannot read ZIP archive ${where}: ${what}`, { hint });
  };
}

async function openZip(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new KilnError(
      missing ? 'KILN_NOT_FOUND' : 'KILN_IO',
      `cannot open ZIP archive ${path}: ${(cause as Error).message}`,
      {
        cause,
        hint: missing
          ? 'Check the path; OSV dumps are at https://osv-vulnerabilities.storage.googleapis.com/<ECOSYSTEM>/all.zip'
          : undefined,
      },
    );
  }
}

/** Reads exactly `length` bytes at `position`, or fails naming where the file ends. */
async function readAt(
  fh: FileHandle,
  position: number,
  length: number,
  fail: Fail,
  entry?: CentralEntry,
): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0)
      fail(`wanted ${length} bytes at offset ${position}, the file ends ${length - got} bytes short`, entry);
    got += bytesRead;
  }
  return buf;
}

/** Reads the central directory in 64 KiB windows, so a big archive's directory never sits in memory whole. */
class Cursor {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  constructor(
    private readonly fh: FileHandle,
    public pos: number,
    private readonly end: number,
    private readonly fail: Fail,
  ) {}

  async take(length: number, what: string): Promise<Buffer> {
    if (this.pos + length > this.end) this.fail(`its central directory ends inside ${what}`);
    let at = this.pos - this.windowStart;
    if (at < 0 || at + length > this.window.length) {
      const size = Math.min(this.end - this.pos, Math.max(length, 65536));
      this.window = await readAt(this.fh, this.pos, size, this.fail);
      this.windowStart = this.pos;
      at = 0;
    }
    this.pos += length;
    return this.window.subarray(at, at + length);
  }
}

/** Finds the (ZIP64) end of central directory record: APPNOTE 4.3.14–4.3.16, searching back past a comment. */
async function findCentralDirectory(fh: FileHandle, fileSize: number, fail: Fail): Promise<CentralDirectory> {
  if (fileSize < 22) fail(`it is ${fileSize} bytes, too short for a ZIP archive (at least 22)`);
  const tailStart = Math.max(0, fileSize - 22 - U16_MAX);
  const tail = await readAt(fh, tailStart, fileSize - tailStart, fail);
  let at = tail.length - 22;
  while (at >= 0 && !(tail.readUInt32LE(at) === SIG.end && at + 22 + tail.readUInt16LE(at + 20) === tail.length)) at--;
  if (at < 0) fail('it has no end of central directory record (not a ZIP archive, or cut short)');
  const endAt = tailStart + at;
  const end = {
    disks: tail.readUInt16LE(at + 4) | tail.readUInt16LE(at + 6),
    onDisk: tail.readUInt16LE(at + 8),
    count: tail.readUInt16LE(at + 10),
    size: tail.readUInt32LE(at + 12),
    offset: tail.readUInt32LE(at + 16),
  };
  const locatorAt = endAt - 20;
  const hasLocator = locatorAt >= 0 && (await readAt(fh, locatorAt, 4, fail)).readUInt32LE(0) === SIG.locator64;
  if (!hasLocator) {
    if (end.count === U16_MAX || end.size === U32_MAX || end.offset === U32_MAX)
      fail('its end record needs ZIP64 values but there is no ZIP64 end of central directory locator');
    return centralDirectory({ ...end, end: endAt }, fail);
  }
  const locator = await readAt(fh, locatorAt, 20, fail);
  const end64At = u64(locator, 8, fail);
  if (locator.readUInt32LE(4) !== 0 || locator.readUInt32LE(16) > 1) fail('it spans several disks');
  if (end64At + 56 > locatorAt) fail(`its ZIP64 end record offset ${end64At} is not before its locator`);
  const end64 = await readAt(fh, end64At, 56, fail);
  if (end64.readUInt32LE(0) !== SIG.end64) fail(`there is no ZIP64 end of central directory record at ${end64At}`);
  return centralDirectory(
    {
      disks: end64.readUInt32LE(16) | end64.readUInt32LE(20),
      onDisk: u64(end64, 24, fail),
      count: u64(end64, 32, fail),
      size: u64(end64, 40, fail),
      offset: u64(end64, 48, fail),
      end: end64At,
    },
    fail,
  );
}

function centralDirectory(
  end: { disks: number; onDisk: number; count: number; size: number; offset: number; end: number },
  fail: Fail,
): CentralDirectory {
  if (end.disks !== 0 || end.onDisk !== end.count) fail('it spans several disks (split archives are not supported)');
  if (end.offset + end.size !== end.end)
    fail(
      `its central directory (${end.size} bytes at ${end.offset}) does not end where its end record starts (${end.end})`,
    );
  if (end.count * 46 > end.size) fail(`its central directory of ${end.size} bytes cannot hold ${end.count} entries`);
  return { offset: end.offset, end: end.end, count: end.count };
}

/** One central directory file header (APPNOTE 4.3.12), with ZIP64 values from its extra field (4.5.3). */
async function readCentralEntry(cursor: Cursor, index: number, fail: Fail): Promise<CentralEntry> {
  const h = await cursor.take(46, `entry #${index + 1}`);
  if (h.readUInt32LE(0) !== SIG.central) fail(`central directory entry #${index + 1} has no header signature`);
  const [nameLength, extraLength, commentLength] = [h.readUInt16LE(28), h.readUInt16LE(30), h.readUInt16LE(32)];
  const rest = await cursor.take(nameLength + extraLength + commentLength, `entry #${index + 1}`);
  const nameBytes = Buffer.from(rest.subarray(0, nameLength));
  const stored: CentralEntry = {
    name: nameBytes.toString('utf8'),
    nameBytes,
    flags: h.readUInt16LE(8),
    method: h.readUInt16LE(10),
    crc: h.readUInt32LE(16),
    compressedSize: h.readUInt32LE(20),
    size: h.readUInt32LE(24),
    localOffset: h.readUInt32LE(42),
  };
  if (h.readUInt16LE(34) !== 0 && h.readUInt16LE(34) !== U16_MAX) fail('it starts on another disk', stored);
  const extra = rest.subarray(nameLength, nameLength + extraLength);
  const wide = resolveZip64([stored.size, stored.compressedSize, stored.localOffset], extra, stored, fail);
  return { ...stored, size: wide[0] ?? 0, compressedSize: wide[1] ?? 0, localOffset: wide[2] ?? 0 };
}

/** APPNOTE 4.5.3: each value stored as 0xFFFFFFFF is in the ZIP64 extra field instead, 8 bytes each, in order. */
function resolveZip64(values: readonly number[], extra: Buffer, entry: CentralEntry, fail: Fail): number[] {
  if (!values.includes(U32_MAX)) return [...values];
  let field: Buffer | undefined;
  for (let at = 0; at + 4 <= extra.length; at += 4 + extra.readUInt16LE(at + 2)) {
    if (extra.readUInt16LE(at) === 0x0001) field = extra.subarray(at + 4, at + 4 + extra.readUInt16LE(at + 2));
  }
  if (field === undefined) return fail('it has 0xFFFFFFFF sizes but no ZIP64 extra field', entry);
  let at = 0;
  return values.map((value) => {
    if (value !== U32_MAX) return value;
    if (at + 8 > field.length) fail('its ZIP64 extra field is too short for the values it must hold', entry);
    at += 8;
    return u64(field, at - 8, fail);
  });
}

/** What a local file header repeats of its central directory entry (they must agree). */
type LocalHeader = Omit<CentralEntry, 'name' | 'localOffset'>;

/** Reads the local file header (APPNOTE 4.3.7) and the entry's data: one read, unless the header is unusually long. */
async function readLocal(fh: FileHandle, entry: CentralEntry, cdOffset: number, fail: Fail) {
  const room = cdOffset - entry.localOffset;
  if (room < 30) fail(`its local header offset ${entry.localOffset} is past the file data`, entry);
  // The local name repeats the central one; 256 bytes cover the usual extra fields (timestamps, Unix ids, ZIP64).
  const guess = Math.min(room, 30 + entry.nameBytes.length + 256 + entry.compressedSize);
  let buf = await readAt(fh, entry.localOffset, guess, fail, entry);
  if (buf.readUInt32LE(0) !== SIG.local) fail(`there is no local header at offset ${entry.localOffset}`, entry);
  const [nameLength, extraLength] = [buf.readUInt16LE(26), buf.readUInt16LE(28)];
  const dataStart = 30 + nameLength + extraLength;
  const end = dataStart + entry.compressedSize;
  if (end > room) fail(`its ${entry.compressedSize} bytes of data run into the central directory`, entry);
  if (end > buf.length) buf = await readAt(fh, entry.localOffset, end, fail, entry);
  const extra = buf.subarray(30 + nameLength, dataStart);
  const [size, compressedSize] = resolveZip64([buf.readUInt32LE(22), buf.readUInt32LE(18)], extra, entry, fail);
  const local: LocalHeader = {
    nameBytes: buf.subarray(30, 30 + nameLength),
    flags: buf.readUInt16LE(6),
    method: buf.readUInt16LE(8),
    crc: buf.readUInt32LE(14),
    compressedSize: compressedSize ?? 0,
    size: size ?? 0,
  };
  return { local, data: buf.subarray(dataStart, end), end: entry.localOffset + end };
}

/** Refuses, before reading any data, what this reader cannot read or would not read safely. */
function checkCentral(entry: CentralEntry, max: number, fail: Fail): void {
  if (entry.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) || entry.method === 99)
    fail('it is encrypted', entry, 'Kiln reads only unencrypted archives; OSV dumps are never encrypted.');
  if (entry.method !== 0 && entry.method !== 8) {
    const name = METHOD_NAMES[entry.method] ?? 'unknown';
    const hint = 'Only stored (0) and deflated (8) entries are read; re-create the archive with `zip`.';
    fail(`it uses compression method ${entry.method} (${name})`, entry, hint);
  }
  if (entry.size > max) {
    const hint = 'An OSV record is never that large: check where the archive came from.';
    fail(`it declares ${entry.size} bytes uncompressed, more than the ${max}-byte limit`, entry, hint);
  }
  // Stored data is exactly as long as the file; deflate never grows data by more than about 0.03% (zlib deflateBound).
  const bound = entry.method === 0 ? entry.size : entry.size + (entry.size >>> 10) + 1024;
  if (entry.compressedSize > bound)
    fail(`it declares ${entry.compressedSize} bytes of data for ${entry.size} bytes of content`, entry);
}

/** Refuses a local header that says something else than the central directory (APPNOTE 4.4.4–4.4.9). */
function checkLocal(entry: CentralEntry, local: LocalHeader, fail: Fail): void {
  const differs: string[] = [];
  if (!local.nameBytes.equals(entry.nameBytes))
    differs.push(`name "${escapeForTerminal(local.nameBytes.toString('utf8'))}"`);
  if (local.method !== entry.method) differs.push(`method ${local.method}`);
  const watched = FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_DATA_DESCRIPTOR;
  if ((local.flags ^ entry.flags) & watched) differs.push(`flags 0x${local.flags.toString(16)}`);
  // With a data descriptor (flag bit 3) the local header may leave CRC and sizes zero; the central values count.
  const deferred = (entry.flags & FLAG_DATA_DESCRIPTOR) !== 0;
  for (const key of ['crc', 'compressedSize', 'size'] as const) {
    if (local[key] !== entry[key] && !(deferred && local[key] === 0)) differs.push(`${key} ${local[key]}`);
  }
  if (differs.length > 0)
    fail(`its local header disagrees with the central directory (${differs.join(', ')} vs ${describe(entry)})`, entry);
}

function describe(entry: CentralEntry): string {
  return `"${escapeForTerminal(entry.name)}", method ${entry.method}, crc ${entry.crc}, compressedSize ${entry.compressedSize}, size ${entry.size}`;
}

/** Decompresses (never past the declared size) and checks length and CRC-32. */
function inflate(entry: CentralEntry, data: Buffer, fail: Fail): Buffer {
  let bytes = data;
  if (entry.method === 8) {
    try {
      bytes = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, entry.size) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') fail(`it inflates to more than the ${entry.size} bytes it declares`, entry);
      fail(`its deflate data is corrupt (${(err as Error).message})`, entry);
    }
  }
  if (bytes.length !== entry.size) fail(`it holds ${bytes.length} bytes, the archive declares ${entry.size}`, entry);
  const crc = crc32(bytes);
  if (crc !== entry.crc) fail(`its CRC-32 is ${hex(crc)}, the archive declares ${hex(entry.crc)}`, entry);
  return bytes;
}

function u64(buf: Buffer, at: number, fail: Fail): number {
  const value = buf.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`it declares an impossible 64-bit size or offset ${value}`);
  return Number(value);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
