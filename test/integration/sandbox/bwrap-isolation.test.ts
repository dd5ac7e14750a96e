import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bubblewrapRunner, isBubblewrapAvailable, probeBubblewrap } from '../../../src/sandbox/index.js';
import { runStep } from '../../helpers/sandbox-steps.js';
import { tempDir } from '../../helpers/tmp.js';

const runner = bubblewrapRunner();

describe('bubblewrap sandbox: network', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
    server = undefined;
  });

  async function listen(): Promise<{ port: number; connections: () => number }> {
    let count = 0;
    server = createServer((socket) => {
      count += 1;
      socket.end('hello\n');
    });
    await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    return { port: address.port, connections: () => count };
  }

  const connect = (port: number) =>
    `node -e 'const s = require("net").connect(${port}, "127.0.0.1");
      s.on("connect", () => { console.log("connected"); s.end(); });
      s.on("error", (e) => { console.log("error " + e.code); process.exitCode = 3; });'`;

  it('cannot reach a TCP server on the host loopback without network: true', async () => {
    const { port, connections } = await listen();
    const run = await runStep(runner, connect(port));
    expect(run.log).toMatch(/^error (ECONNREFUSED|ENETUNREACH)$/m);
    expect(run.exitCode).toBe(3);
    expect(connections()).toBe(0);
  });

  it('reaches it with network: true', async () => {
    const { port, connections } = await listen();
    const run = await runStep(runner, connect(port), { network: true });
    expect(run.log).toContain('connected');
    expect(run.exitCode).toBe(0);
    expect(connections()).toBe(1);
  });
});

describe('bubblewrap sandbox: what a step sees', () => {
  it('sees its cwd at /work and nothing else of the host: no sibling, Kiln home, signing key, /root or HOME', async () => {
    const root = tempDir();
    const cwd = join(root, 'step');
    const kilnHome = join(root, 'kiln-home');
    mkdirSync(cwd);
    mkdirSync(join(kilnHome, 'keys'), { recursive: true });
    writeFileSync(join(cwd, 'input.txt'), 'declared\n');
    writeFileSync(join(root, 'undeclared.txt'), 'next to the cwd\n');
    writeFileSync(join(kilnHome, 'keys', 'signing.key'), 'PRIVATE\n');
    const paths = [
      root,
      join(root, 'undeclared.txt'),
      join(kilnHome, 'keys', 'signing.key'),
      cwd,
      '/root',
      homedir(),
      '/var',
      '/home',
    ];
    const run = await runStep(
      runner,
      `cat input.txt; pwd; echo ---; ls -A /; echo ---; for p in ${paths.join(' ')}; do test -e "$p" && echo "VISIBLE $p"; done; echo done`,
      { cwd },
    );
    expect(run.exitCode).toBe(0);
    expect(run.log).toContain('declared\n/work\n');
    expect(run.log).not.toContain('VISIBLE');
    const top = (run.log.split('---\n')[1] ?? '').trim().split('\n');
    const toolchain = ['/usr', '/bin', '/lib', '/lib64', '/lib32', '/sbin', '/etc'].filter((d) => existsSync(d));
    expect(top.sort()).toEqual([...toolchain.map((d) => d.slice(1)), 'dev', 'proc', 'tmp', 'work'].sort());
    expect(run.log).not.toContain('PRIVATE');
  });

  it('has exactly the given environment plus PATH, HOME, LANG, TZ; nothing of Kiln’s own process', async () => {
    process.env.KILN_SANDBOX_LEAK_PROBE = 'leaked';
    try {
      const run = await runStep(
        runner,
        'env; echo ---; tr "\\0" "\\n" < /proc/1/environ; tr "\\0" " " < /proc/1/cmdline',
        {
          env: { SOURCE_DATE_EPOCH: '1700000000', NODE_ENV: 'production' },
        },
      );
      const [env = '', pid1] = run.log.split('---\n');
      const vars = Object.fromEntries(
        env
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(vars).toEqual({
        SOURCE_DATE_EPOCH: '1700000000',
        NODE_ENV: 'production',
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: '/tmp/home',
        LANG: 'C.UTF-8',
        TZ: 'UTC',
        PWD: '/work', // exported by the shell itself
      });
      expect(run.log).not.toContain('leaked');
      expect(pid1).not.toContain(run.cwd); // bubblewrap's options went through a pipe, not its command line
    } finally {
      delete process.env.KILN_SANDBOX_LEAK_PROBE;
    }
  });

  it('keeps the toolchain read-only, even for root (capabilities dropped), and masks host secrets under /etc', async () => {
    const run = await runStep(
      runner,
      'touch /usr/kiln-probe; touch /etc/kiln-probe; touch /kiln-probe; mount -o remount,rw,bind /usr && echo REMOUNTED; ' +
        'cat /etc/shadow && echo READ-SHADOW; grep CapEff /proc/self/status; echo done',
    );
    expect(run.log).toContain("touch: cannot touch '/usr/kiln-probe': Read-only file system");
    expect(run.log).toContain("touch: cannot touch '/etc/kiln-probe': Read-only file system");
    expect(run.log).toContain("touch: cannot touch '/kiln-probe': Read-only file system");
    expect(run.log).not.toContain('REMOUNTED');
    expect(run.log).not.toContain('READ-SHADOW');
    expect(run.log).toMatch(/^CapEff:\s+0+$/m);
    expect(existsSync('/usr/kiln-probe')).toBe(false);
  });

  it('gives each step its own empty, writable /tmp and HOME, not shared with the host or the next step', async () => {
    const name = `kiln-sandbox-${process.pid}-${Date.now()}`;
    writeFileSync(join('/tmp', `${name}-host`), 'host\n');
    const first = await runStep(
      runner,
      `ls -A /tmp; echo inside > /tmp/${name}; echo x > "$HOME/.npmrc" && echo home-ok`,
    );
    expect(first.log).toBe('home\nhome-ok\n');
    expect(existsSync(join('/tmp', name))).toBe(false);
    const second = await runStep(runner, `ls -A /tmp /tmp/home`);
    expect(second.log).toBe('/tmp:\nhome\n\n/tmp/home:\n');
  });

  it('leaves files written in /work on the host, owned by the user running Kiln', async () => {
    const run = await runStep(runner, 'mkdir -p out && echo built > out/a.txt && ln -s a.txt out/link');
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(run.cwd, 'out', 'a.txt'), 'utf8')).toBe('built\n');
    const st = statSync(join(run.cwd, 'out', 'a.txt'));
    expect([st.uid, st.gid]).toEqual([process.getuid?.(), process.getgid?.()]);
  });
});

describe('bubblewrap availability', () => {
  it('is detected by actually creating a sandbox, and a missing binary says so', async () => {
    expect(await isBubblewrapAvailable()).toBe(true);
    const missing = await probeBubblewrap('/nonexistent/bwrap');
    expect(missing).toEqual({ ok: false, reason: expect.stringContaining('/nonexistent/bwrap') });
  });

  it('reports a missing bwrap on run as KILN_SANDBOX with a hint', async () => {
    await expect(runStep(bubblewrapRunner({ bwrapPath: '/nonexistent/bwrap' }), 'true')).rejects.toMatchObject({
      code: 'KILN_SANDBOX',
      hint: expect.stringContaining('bubblewrap'),
    });
  });
});

describe('bubblewrap sandbox as a non-root user', () => {
  const asRoot = process.getuid?.() === 0;

  it.runIf(asRoot)('leaves /work files owned by that user, with no capabilities inside', () => {
    const nobody = 65534;
    const root = tempDir();
    chmodSync(root, 0o755);
    const cwd = join(root, 'step');
    mkdirSync(cwd);
    chownSync(root, nobody, nobody);
    chownSync(cwd, nobody, nobody);
    const helper = resolve(import.meta.dirname, '../../helpers/sandbox-run-as.mjs');
    const out = execFileSync(
      'setpriv',
      [
        '--reuid',
        String(nobody),
        '--regid',
        String(nobody),
        '--clear-groups',
        '--',
        process.execPath,
        helper,
        cwd,
        'id -u; grep CapEff /proc/self/status; echo made > made.txt',
      ],
      { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } },
    );
    expect(JSON.parse(out)).toMatchObject({
      exitCode: 0,
      logTail: [String(nobody), expect.stringMatching(/^CapEff:\s+0+$/)],
    });
    const st = statSync(join(cwd, 'made.txt'));
    expect([st.uid, st.gid]).toEqual([nobody, nobody]);
  });
});

describe('descriptors the process running Kiln holds', () => {
  it('reach a step only as /dev/null, whoever embeds the runner', () => {
    const root = tempDir();
    const cwd = join(root, 'cwd');
    mkdirSync(cwd);
    writeFileSync(join(root, 'secret'), 'FILE-SECRET');
    const file = openSync(join(root, 'secret'), 'r');
    const dir = openSync(root, 'r');
    const helper = resolve(import.meta.dirname, '../../helpers/sandbox-run-as.mjs');
    const probe =
      'for n in 20 21; do echo "fd$n: $(readlink /proc/$$/fd/$n)"; done; cat /proc/self/fd/20; ls /proc/self/fd/21/';
    let out: string;
    try {
      // Given to the helper without close-on-exec, as a shell gives `20</secret 21</dir` to a program it starts.
      const stdio = ['ignore', 'pipe', 'inherit', ...Array(17).fill('ignore'), file, dir];
      out = execFileSync(process.execPath, [helper, cwd, probe], { encoding: 'utf8', stdio });
    } finally {
      closeSync(file);
      closeSync(dir);
    }
    const log = readFileSync(join(root, 'step.log'), 'utf8');
    expect(JSON.parse(out)).toMatchObject({ exitCode: expect.any(Number) });
    expect(log).toContain('fd20: /dev/null\nfd21: /dev/null\n');
    expect(log).not.toContain('FILE-SECRET');
    expect(log).not.toContain('secret');
  });
});
