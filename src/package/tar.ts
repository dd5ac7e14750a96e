// ustar headers with every non-content field fixed: same tree → same bytes on any machine.

/** One archive member, already normalized (relative POSIX path, fixed mode). */
export type TarEntry =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly size: number; readonly executable: boolean }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

const BLOCK = 512;

/** Header block(s) for `entry`: a pax 'x' header first only when a path or link name does not fit ustar. */
export function tarHeader(entry: TarEntry, mtime: number): Buffer {
  const name = entry.kind === 'dir' ? `${entry.path}/` : entry.path;
  const link = entry.kind === 'symlink' ? entry.target : '';
  const split = splitName(name);
  const pax: string[] = [];
  if (!split) pax.push(paxRecord('path', name));
  if (Buffer.byteLength(link) > 100) pax.push(paxRecord('linkpath', link));
  const size = entry.kind === 'file' ? entry.size : 0;
  if (size > 0o77777777777) pax.push(paxRecord('size', String(size)));
  const [mode, type] = modeAndType(entry);
  const header = ustar({
    name: split ? split.name : fallbackName(name),
    prefix: split ? split.prefix : '',
    mode,
    size: Math.min(size, 0o77777777777),
    mtime,
    type,
    link: Buffer.byteLength(link) > 100 ? '' : link,
  });
  if (pax.length === 0) return header;
  const body = Buffer.from(pax.join(''));
  const paxHeader = ustar({
    name: fallbackName(`PaxHeaders/${name}`),
    prefix: '',
    mode: 0o644,
    size: body.length,
    mtime,
    type: 'x',
    link: '',
  });
  return Buffer.concat([paxHeader, body, Buffer.alloc(padding(body.length)), header]);
}

/** Zero bytes needed after `size` bytes of content to reach a block boundary. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The two zero blocks that end an archive. */
export function tarTrailer(): Buffer {
  return Buffer.alloc(BLOCK * 2);
}

function modeAndType(entry: TarEntry): [number, string] {
  switch (entry.kind) {
    case 'dir':
      return [0o755, '5'];
    case 'file':
      return [entry.executable ? 0o755 : 0o644, '0'];
    case 'symlink':
      return [0o777, '2'];
  }
}

function ustar(f: {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  type: string;
  link: string;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100);
  octal(b, 100, 8, f.mode);
  octal(b, 108, 8, 0); // uid
  octal(b, 116, 8, 0); // gid
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime);
  b.fill(' ', 148, 156); // checksum placeholder
  b.write(f.type, 156, 1);
  b.write(f.link, 157, 100);
  b.write('ustar\u000000', 257, 8);
  // uname/gname stay empty; devmajor/devminor are zero.
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  b.write(f.prefix, 345, 155);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8);
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number): void {
  b.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width);
}

function splitName(name: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) {
      return { name: rest, prefix };
    }
  }
  return undefined;
}

function fallbackName(name: string): string {
  let out = name;
  while (Buffer.byteLength(out) > 100) out = out.slice(0, -1);
  return out;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}
