import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

// kiln inherits a file, a directory and a connected socket (as with `kiln build 20</secret 21</ 22<>socket`):
// the step must not read, write or connect through any of them.
const PROBE = `name: fds
steps:
  probe:
    run: |
      for n in 20 21 22; do test -e /proc/$$/fd/$n && echo "fd$n: $(readlink /proc/$$/fd/$n)"; done
      echo "file: $(cat /proc/self/fd/20 2>/dev/null)"
      echo "dir: $(cat /proc/self/fd/21/inside.txt 2>/dev/null)"
      echo written > /proc/self/fd/21/pwned 2>/dev/null
      bash -c 'printf "GET / HTTP/1.0\\r\\n\\r\\n" >&22' 2>/dev/null
      exit 3
    outputs: [out]
artifacts:
  - name: fds
    from: probe
    path: out
`;

describe('descriptors kiln inherits', () => {
  let received = '';
  let closed: Promise<void>;
  const server = createServer((conn) => {
    closed = new Promise((done) => conn.on('close', () => done()));
    conn.on('data', (chunk) => {
      received += chunk.toString();
    });
  });
  let client: Socket;

  beforeAll(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as { port: number }).port;
    client = connect(port, '127.0.0.1');
    await new Promise((done) => client.once('connect', done));
  });
  afterAll(() => {
    client.destroy();
    server.close();
  });

  it('never reach a step: closed, so it cannot read, write or connect through them', async () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, { 'kiln.yaml': PROBE });
    const hostDir = tempDir();
    writeFileSync(join(hostDir, 'inside.txt'), 'DIR-SECRET');
    writeFileSync(join(root, 'secret'), 'FILE-SECRET');
    const file = openSync(join(root, 'secret'), 'r');
    const dir = openSync(hostDir, 'r');
    const socket = (client as unknown as { _handle: { fd: number } })._handle.fd;
    let run: ReturnType<typeof kiln>;
    try {
      run = kiln(['build'], { cwd: repo, home: join(root, 'home'), fds: { 20: file, 21: dir, 22: socket } });
    } finally {
      closeSync(file);
      closeSync(dir);
    }
    client.end();
    await closed;

    expect(run.stderr).toContain('step probe failed with exit code 3');
    expect(run.stderr).not.toMatch(/\| fd2[012]: /); // not even as /dev/null: kiln closed what it inherited
    expect(run.stderr).toContain('| file: \n');
    expect(run.stderr).toContain('| dir: \n');
    expect(existsSync(join(hostDir, 'pwned'))).toBe(false);
    expect(received).toBe('');
  });
});
