import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readZipEntries, tableCrc32, type ZipReadOptions } from '../../../src/scan/osv/zip.js';
import { rejected } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';

// Archives are made by the real writers (Info-ZIP zip 3.0, CPython's zipfile); field offsets below are those of
// PKWARE's APPNOTE.TXT 4.3.7 (local header) and 4.3.12 (central directory header).
const CENTRAL = Buffer.from('PK\x01\x02', 'latin1');

const FILES: Readonly<Record<string, Buffer>> = {
  'a/b/GHSA-1234-5678-9abc.json': Buffer.from('{"id":"GHSA-1234-5678-9abc","modified":"2024-01-01T00:00:00Z"}\n'),
  'a/big.json': Buffer.from(JSON.stringify(Array.from({ length: 6000 }, (_, i) => ({ id: `GO-2020-${i}` })))),
  'empty.txt': Buffer.alloc(0),
  'random.bin': randomBytes(70_000),
  'top.txt': Buffer.from('hello\n'),
};
const NAMES = Object.keys(FILES).sort();

function fixture(): string {
  const dir = tempDir('kiln-zip-');
  for (const [name, bytes] of Object.entries(FILES)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
  return dir;
}

function zipCli(dir: string, args: readonly string[], input?: string): string {
  return execFileSync('zip', args, { cwd: dir, input, encoding: 'latin1' });
}

function python(dir: string, script: string): void {
  execFileSync('python3', ['-c', script], { cwd: dir });
}

async function entries(path: string, opts?: ZipReadOptions): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for await (const entry of readZipEntries(path, opts)) out[entry.name] = entry.bytes;
  return out;
}

/** Offsets of `name`'s central directory header and local header in `zip`. */
function headersOf(zip: Buffer, name: string): { central: number; local: number } {
  for (let at = zip.indexOf(CENTRAL); at >= 0; at = zip.indexOf(CENTRAL, at + 4)) {
    const length = zip.readUInt16LE(at + 28);
    if (zip.subarray(at + 46, at + 46 + length).toString('latin1') === name) {
      return { central: at, local: zip.readUInt32LE(at + 42) };
    }
  }
  throw new Error(`no entry ${name}`);
}

/** Rewrites `zip` with `patch` applied to its bytes and returns the path. */
function patched(path: string, patch: (zip: Buffer) => void): string {
  const zip = readFileSync(path);
  patch(zip);
  writeFileSync(path, zip);
  return path;
}

describe('readZipEntries on archives made by zip and python', () => {
  it('reads a stored (-0) archive with nested dirs byte for byte and skips its directory entries', async () => {
    const dir = fixture();
    zipCli(dir, ['-q', '-r', '-0', '-X', 'stored.zip', 'a', 'empty.txt', 'random.bin', 'top.txt']);
    expect(execFileSync('unzip', ['-Z1', join(dir, 'stored.zip')], { encoding: 'utf8' })).toContain('a/b/\n');
    const read = await entries(join(dir, 'stored.zip'));
    expect(Object.keys(read).sort()).toEqual(NAMES);
    for (const name of NAMES) expect(read[name]?.equals(FILES[name] as Buffer), name).toBe(true);
  });

  it('reads a deflated archive whose comment contains an end-record signature', async () => {
    const dir = fixture();
    zipCli(dir, ['-q', '-r', '-X', 'deflated.zip', ...NAMES]);
    zipCli(dir, ['-q', '-z', 'deflated.zip'], 'decoy PK\x05\x06 in the comment\n');
    const zip = readFileSync(join(dir, 'deflated.zip'));
    expect(zip.toString('latin1').endsWith('decoy PK\x05\x06 in the comment')).toBe(true);
    expect(zip.readUInt16LE(headersOf(zip, 'a/big.json').central + 10)).toBe(8); // deflated
    const read = await entries(join(dir, 'deflated.zip'));
    for (const name of NAMES) expect(read[name]?.equals(FILES[name] as Buffer), name).toBe(true);
  });

  it('reads ZIP64 archives: zip -fz (ZIP64 end record and extra fields) and python force_zip64', async () => {
    const dir = fixture();
    zipCli(dir, ['-q', '-fz', '-X', 'z64.zip', ...NAMES]);
    // CPython writes the ZIP64 end record only past 65535 entries; lowering its limit makes it write one for five.
    python(
      dir,
      `import zipfile
zipfile.ZIP_FILECOUNT_LIMIT = 1
with zipfile.ZipFile('py64.zip', 'w', compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
    for name in ${JSON.stringify(NAMES)}:
        with z.open(name, 'w', force_zip64=True) as f:
            f.write(open(name, 'rb').read())`,
    );
    for (const name of ['z64.zip', 'py64.zip']) {
      const zip = readFileSync(join(dir, name));
      expect(zip.includes(Buffer.from('PK\x06\x06', 'latin1')), name).toBe(true); // ZIP64 end of central directory
      const read = await entries(join(dir, name));
      for (const file of NAMES) expect(read[file]?.equals(FILES[file] as Buffer), `${name} ${file}`).toBe(true);
    }
    // force_zip64: the local header's sizes are 0xFFFFFFFF, the real ones in its ZIP64 extra field.
    const py = readFileSync(join(dir, 'py64.zip'));
    expect(py.readUInt32LE(headersOf(py, 'top.txt').local + 22)).toBe(0xffffffff);
  });

  it('reads an archive streamed to stdout, whose entries carry data descriptors', async () => {
    const dir = fixture();
    const streamed = Buffer.from(zipCli(dir, ['-q', '-', 'top.txt', 'a/big.json']), 'latin1');
    expect(streamed.readUInt16LE(6) & 0x0008).toBe(8);
    writeFileSync(join(dir, 'streamed.zip'), streamed);
    const read = await entries(join(dir, 'streamed.zip'));
    expect(read['a/big.json']?.equals(FILES['a/big.json'] as Buffer)).toBe(true);
    expect(read['top.txt']?.toString()).toBe('hello\n');
  });

  it('reads a central directory larger than its 64 KiB read window', async () => {
    const dir = tempDir('kiln-zip-');
    python(
      dir,
      `import zipfile
with zipfile.ZipFile('many.zip', 'w', compression=zipfile.ZIP_DEFLATED) as z:
    for i in range(1500):
        z.writestr('osv/GHSA-%04d-long-name-to-grow-the-directory.json' % i, '{"n": %d}' % i)`,
    );
    const read = await entries(join(dir, 'many.zip'));
    expect(Object.keys(read)).toHaveLength(1500);
    expect(read['osv/GHSA-1499-long-name-to-grow-the-directory.json']?.toString()).toBe('{"n": 1499}');
  });
});

describe('readZipEntries refuses damaged and hostile archives', () => {
  it('shows a hostile entry name escaped in its error: it cannot end the line or steer the terminal', async () => {
    const dir = tempDir('kiln-zip-');
    python(
      dir,
      `import zipfile\nwith zipfile.ZipFile('evil.zip', 'w') as z: z.writestr('a\\x1b[2K\\r\\nkiln: ok\\u202e.json', 'xx')`,
    );
    const err = await rejected(entries(join(dir, 'evil.zip'), { maxEntryBytes: 1 }));
    expect(err.message).toContain('entry "a\\u001b[2K\\u000d\\u000akiln: ok\\u202e.json": it declares 2 bytes');
  });

  const storedPair = () => {
    const dir = fixture();
    zipCli(dir, ['-q', '-0', '-X', 'pair.zip', 'top.txt', 'a/b/GHSA-1234-5678-9abc.json']);
    return join(dir, 'pair.zip');
  };
  const entryName = 'a/b/GHSA-1234-5678-9abc.json';

  it('names the entry whose content does not match its CRC-32', async () => {
    const path = patched(storedPair(), (zip) => {
      zip[zip.indexOf('"modified"') + 1] = 0x4d; // "modified" -> "Modified"
    });
    const original = FILES[entryName] as Buffer;
    const damaged = Buffer.from(original.toString().replace('"modified"', '"Modified"'));
    const hex = (data: Buffer) => `0x${zlib.crc32(data).toString(16).padStart(8, '0')}`;
    const err = await rejected(entries(path));
    expect(err.code).toBe('KILN_IO');
    expect(err.message).toBe(
      `cannot read ZIP archive ${path}, entry "${entryName}": its CRC-32 is ${hex(damaged)}, the archive declares ${hex(original)}`,
    );
    expect(err.hint).toContain('download it again');
  });

  it('refuses corrupt deflate data', async () => {
    const dir = fixture();
    zipCli(dir, ['-q', '-X', 'big.zip', 'a/big.json']);
    const path = patched(join(dir, 'big.zip'), (zip) => zip.fill(0xff, 200, 260));
    expect((await rejected(entries(path))).message).toMatch(
      /entry "a\/big\.json": (its deflate data is corrupt|its CRC-32|it holds)/,
    );
  });

  it('refuses a truncated archive and one too short to be any', async () => {
    const path = storedPair();
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, whole.length - 1));
    expect((await rejected(entries(path))).message).toBe(
      `cannot read ZIP archive ${path}: it has no end of central directory record (not a ZIP archive, or cut short)`,
    );
    writeFileSync(path, whole.subarray(0, 10));
    expect((await rejected(entries(path))).message).toContain('it is 10 bytes, too short for a ZIP archive');
  });

  it('refuses a local header that disagrees with the central directory', async () => {
    const path = patched(storedPair(), (zip) => {
      const { local } = headersOf(zip, entryName);
      zip[local + 30] = 0x62; // local name "a/b/…" -> "b/b/…"
      zip.writeUInt16LE(8, local + 8); // local method stored -> deflate
    });
    expect((await rejected(entries(path))).message).toMatch(
      /entry "a\/b\/GHSA-1234-5678-9abc\.json": its local header disagrees with the central directory \(name "b\/b\/GHSA-1234-5678-9abc\.json", method 8 vs "a\/b\//,
    );
  });

  it('refuses to inflate past the declared size, and sizes deflate cannot produce (zip bombs)', async () => {
    const dir = fixture();
    zipCli(dir, ['-q', '-X', 'bomb.zip', 'a/big.json']);
    const declare = (size: number) =>
      patched(join(dir, 'bomb.zip'), (zip) => {
        const { central, local } = headersOf(zip, 'a/big.json');
        zip.writeUInt32LE(size, central + 24);
        zip.writeUInt32LE(size, local + 22);
      });
    const compressed = readFileSync(join(dir, 'bomb.zip')).readUInt32LE(
      headersOf(readFileSync(join(dir, 'bomb.zip')), 'a/big.json').central + 20,
    );
    expect((await rejected(entries(declare(compressed + 1000)))).message).toContain(
      `"a/big.json": it inflates to more than the ${compressed + 1000} bytes it declares`,
    );
    expect((await rejected(entries(declare(1000)))).message).toContain(
      `"a/big.json": it declares ${compressed} bytes of data for 1000 bytes of content`,
    );
  });

  it('refuses an entry declaring more than the size limit before reading it', async () => {
    const dir = fixture();
    zipCli(dir, ['-q', '-X', 'big.zip', 'a/big.json']);
    const size = (FILES['a/big.json'] as Buffer).length;
    const err = await rejected(entries(join(dir, 'big.zip'), { maxEntryBytes: 4096 }));
    expect(err.message).toContain(`it declares ${size} bytes uncompressed, more than the 4096-byte limit`);
  });

  it('refuses encrypted entries and compression methods other than stored and deflate', async () => {
    const dir = fixture();
    zipCli(dir, ['-q', '-X', '-P', 'secret', 'enc.zip', 'top.txt']);
    const encrypted = await rejected(entries(join(dir, 'enc.zip')));
    expect(encrypted.message).toContain('entry "top.txt": it is encrypted');
    expect(encrypted.hint).toContain('unencrypted');
    const path = patched(storedPair(), (zip) => {
      const { central, local } = headersOf(zip, 'top.txt');
      zip.writeUInt16LE(12, central + 10);
      zip.writeUInt16LE(12, local + 8);
    });
    const bzip2 = await rejected(entries(path));
    expect(bzip2.message).toContain('entry "top.txt": it uses compression method 12 (bzip2)');
    expect(bzip2.hint).toContain('re-create the archive');
  });

  it('refuses entries that share their data (overlapping local headers, the non-recursive zip bomb shape)', async () => {
    const dir = tempDir('kiln-zip-');
    python(
      dir,
      `import zipfile
with zipfile.ZipFile('twice.zip', 'w') as z:
    z.writestr('a.json', '{}')
    z.writestr('b.json', '{}')`,
    );
    const path = patched(join(dir, 'twice.zip'), (zip) => zip.writeUInt32LE(0, headersOf(zip, 'b.json').central + 42));
    expect((await rejected(entries(path))).message).toContain(
      'entry "b.json": its local header at 0 overlaps the entry before',
    );
  });

  it('reports a missing archive as not found', async () => {
    const err = await rejected(entries(join(tempDir('kiln-zip-'), 'all.zip')));
    expect(err.code).toBe('KILN_NOT_FOUND');
    expect(err.hint).toContain('all.zip');
  });
});

describe('tableCrc32', () => {
  it('gives the CRC-32/ISO-HDLC check value and agrees with zlib', () => {
    // Check value of CRC-32/ISO-HDLC for "123456789" (Greg Cook, Catalogue of parametrised CRC algorithms).
    expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(tableCrc32(Buffer.alloc(0))).toBe(0);
    const data = randomBytes(10_000);
    expect(tableCrc32(data)).toBe(zlib.crc32(data));
  });
});
