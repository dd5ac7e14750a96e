// gzip with a portable deflate: pako reproduces canonical zlib output, while Node's bundled zlib may vary by CPU.
import { crc32 } from 'node:zlib';
import pako from 'pako';

/** gzip header with no name, mtime 0 and OS=Unix, so the bytes depend on content only. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

/** Incremental gzip: `push` input, collect output; memory stays bounded by the chunk size. */
export class DeterministicGzip {
  private readonly deflate = new pako.Deflate({ level: 6, raw: true });
  private crc = 0;
  private size = 0;
  private pending: Buffer[] = [GZIP_HEADER];

  constructor() {
    this.deflate.onData = (chunk) => {
      this.pending.push(Buffer.from(chunk as Uint8Array));
    };
  }

  /** Compresses `data` and returns the output produced so far. */
  push(data: Uint8Array): Buffer[] {
    this.crc = crc32(data, this.crc);
    this.size = (this.size + data.length) % 2 ** 32;
    this.deflate.push(data, false);
    return this.take();
  }

  /** Flushes the deflate stream and appends the gzip trailer (CRC32 and size mod 2^32). */
  finish(): Buffer[] {
    this.deflate.push(new Uint8Array(0), true);
    if (this.deflate.err) throw new Error(`deflate failed: ${this.deflate.msg}`);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size, 4);
    this.pending.push(trailer);
    return this.take();
  }

  private take(): Buffer[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
