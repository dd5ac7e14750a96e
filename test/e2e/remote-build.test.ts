import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filesContaining, type GitServer, startGitDaemon, startGitHttp } from '../helpers/git-serve.js';
import { demoProject } from '../helpers/project.js';
import { git, KILN, kiln, kilnAsync, makeRepo, writeFiles } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const servers: GitServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

interface BuildRow {
  id: string;
  repo_url: string;
  commit_sha: string;
  subdir: string;
  dirty: boolean;
  branch: string | null;
}

function provenanceSource(bundlePath: string) {
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  const def = statement.predicate.buildDefinition;
  return { source: def.externalParameters.source, deps: def.resolvedDependencies.map((d: { uri: string }) => d.uri) };
}

/** A served repository holding the demo project in `app/`. */
function servedProject(root: string): { dir: string; commit: string } {
  const files = Object.fromEntries(Object.entries(demoProject()).map(([p, c]) => [`app/${p}`, c]));
  const dir = join(root, 'served', 'repo');
  return { dir, commit: makeRepo(dir, files) };
}

/** The demo project served over HTTP with Basic auth, and `kiln build` of it with those credentials. */
async function httpProject() {
  const root = tempDir();
  const served = servedProject(root);
  const server = await startGitHttp(join(root, 'served'), { username: 'u', password: 'p4ssword' });
  servers.push(server);
  const home = join(root, 'home');
  const env = { KILN_GIT_USERNAME: 'u', KILN_GIT_PASSWORD: 'p4ssword' };
  const args = ['build', '--repository', `${server.url}/repo`, '--path', 'app', '--json'];
  return { root, served, server, home, env, args };
}

describe('kiln build --repository', () => {
  it('builds a commit over git://, then fetches the same mirror and builds the pushed commit', async () => {
    const root = tempDir();
    const served = servedProject(root);
    const daemon = await startGitDaemon(join(root, 'served'));
    servers.push(daemon);
    const home = join(root, 'home');
    const out = join(root, 'out');
    mkdirSync(out);
    const url = `${daemon.url}/repo`;

    const first = await kilnAsync(['build', '--repository', url, '--path', 'app', '--json'], { cwd: out, home });
    expect(first.stderr).toContain(`kiln: source: fetching ${url}`);
    expect(first.status).toBe(0);
    const one = JSON.parse(first.stdout);
    expect(one.commit).toBe(served.commit);
    const bundle = join(out, 'kiln-out', 'demo.tgz.sigstore.json');
    expect(provenanceSource(bundle).source).toMatchObject({
      uri: `git+${url}`,
      digest: { gitCommit: served.commit },
      subdir: 'app',
      dirty: false,
    });
    const [mirror, ...others] = readdirSync(join(home, 'mirrors')).filter((n) => n.endsWith('.git'));
    expect(others).toEqual([]);
    const mirrorDir = join(home, 'mirrors', mirror as string);
    writeFileSync(join(mirrorDir, 'kiln-test-marker'), 'kept');
    const inode = statSync(mirrorDir).ino;

    writeFiles(served.dir, { 'app/src/util.js': 'export const twice = (x) => x + x;\n' });
    git(served.dir, ['commit', '-q', '-am', 'second'], '2024-06-01T12:00:00Z');
    const second = git(served.dir, ['rev-parse', 'HEAD']).trim();
    const again = await kilnAsync(['build', '--repository', url, '--rev', 'main', '--path', 'app', '--json'], {
      cwd: out,
      home,
    });
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).commit).toBe(second);
    expect(statSync(mirrorDir).ino).toBe(inode);
    expect(readFileSync(join(mirrorDir, 'kiln-test-marker'), 'utf8')).toBe('kept'); // fetched, never cloned again

    const rows: BuildRow[] = JSON.parse(kiln(['builds', '--json'], { cwd: out, home }).stdout);
    expect(rows.map((r) => [r.repo_url, r.commit_sha, r.subdir, r.dirty, r.branch])).toEqual([
      [url, second, 'app', false, 'main'],
      [url, served.commit, 'app', false, 'main'],
    ]);
    expect(provenanceSource(bundle).source.digest.gitCommit).toBe(second);
  });

  it('builds over HTTP with Basic credentials that appear nowhere: output, records, evidence or the home', async () => {
    const root = tempDir();
    const served = servedProject(root);
    const password = 'Pa55-word-no-one-may-see';
    const server = await startGitHttp(join(root, 'served'), { username: 'builder', password });
    servers.push(server);
    const home = join(root, 'home');
    const out = join(root, 'out');
    mkdirSync(out);
    const url = `${server.url}/repo`;
    const creds = { KILN_GIT_USERNAME: 'builder', KILN_GIT_PASSWORD: password };
    const secrets = [password, Buffer.from(`builder:${password}`).toString('base64')];
    const seen: string[] = [];

    const wrong = await kilnAsync(['build', '--repository', url, '--path', 'app'], {
      cwd: out,
      home,
      env: { ...creds, KILN_GIT_PASSWORD: 'not-the-password' },
    });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain(`kiln: error KILN_SOURCE_GIT: cloning ${url} failed`);
    expect(wrong.stderr).toContain('check the credentials');
    expect(wrong.stderr).not.toContain('not-the-password');

    const built = await kilnAsync(['build', '--repository', url, '--path', 'app', '--json'], {
      cwd: out,
      home,
      env: { ...creds, KILN_LOG: 'json' },
    });
    expect(built.status).toBe(0);
    expect(JSON.parse(built.stdout).commit).toBe(served.commit);
    seen.push(built.stdout, built.stderr, wrong.stdout, wrong.stderr);

    // The password in the URL's userinfo works too, and is recorded without it.
    const hostPort = server.url.slice('http://'.length);
    const inUrl = await kilnAsync(
      ['build', '--repository', `http://builder:${password}@${hostPort}/repo`, '--path', 'app', '--force'],
      { cwd: out, home },
    );
    expect(inUrl.status).toBe(0);
    seen.push(inUrl.stdout, inUrl.stderr);

    const rows: BuildRow[] = JSON.parse(kiln(['builds', '--json'], { cwd: out, home }).stdout);
    expect(rows.map((r) => r.repo_url)).toEqual([url, url]);
    for (const row of rows) seen.push(kiln(['show', row.id, '--json'], { cwd: out, home }).stdout);
    seen.push(JSON.stringify(rows));
    const { source, deps } = provenanceSource(join(out, 'kiln-out', 'demo.tgz.sigstore.json'));
    expect(source.uri).toBe(`git+${url}`);
    expect(deps).toContain(`git+${url}@${served.commit}`);
    for (const text of seen) for (const s of secrets) expect(text).not.toContain(s);
    expect(filesContaining(home, secrets)).toEqual([]);
    expect(filesContaining(out, secrets)).toEqual([]);
    const mirror = readdirSync(join(home, 'mirrors')).find((n) => n.endsWith('.git')) as string;
    expect(readFileSync(join(home, 'mirrors', mirror, 'config'), 'utf8')).toContain(`url = ${url}\n`);
  });

  it('leaves no mirror when the process is killed (-9) mid-clone, and the next build clones it', async () => {
    const { root, served, server, home, env, args } = await httpProject();
    server.holdPacks = true;
    const child = spawn(process.execPath, [KILN, ...args], {
      cwd: root,
      env: { ...process.env, KILN_HOME: home, KILN_SIGNING_KEY: '', ...env },
      stdio: 'ignore',
      detached: true, // its own process group: kill -9 takes kiln and its git processes at once
    });
    const exited = new Promise((done) => child.on('exit', done));
    for (let i = 0; i < 400 && server.held() === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(server.held()).toBe(1); // git is in the middle of the clone's transfer
    process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
    const left = readdirSync(join(home, 'mirrors'));
    expect(left.filter((n) => n.endsWith('.git'))).toEqual([]); // only a temp dir (and the dead process's lock)
    expect(left.some((n) => n.includes('.git.tmp-'))).toBe(true);

    server.holdPacks = false;
    const again = await kilnAsync(args, { cwd: root, home, env });
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).commit).toBe(served.commit);
    expect(readdirSync(join(home, 'mirrors')).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('lets two processes fetch the same new mirror at once: one clones, the other waits, both build', async () => {
    const { root, served, server, home, env, args } = await httpProject();
    for (const d of ['a', 'b']) mkdirSync(join(root, d));
    server.holdPacks = true;
    const both = Promise.all([
      kilnAsync(args, { cwd: join(root, 'a'), home, env }),
      kilnAsync(args, { cwd: join(root, 'b'), home, env }),
    ]);
    for (let i = 0; i < 400 && server.held() === 0; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 1500)); // time enough for the other process to reach the remote too
    expect(server.held()).toBe(1); // the other one waits for the mirror's lock
    server.release();
    const [a, b] = await both;
    expect([a.status, b.status]).toEqual([0, 0]);
    expect(JSON.parse(a.stdout).commit).toBe(served.commit);
    expect(JSON.parse(b.stdout).commit).toBe(served.commit);
    expect(readdirSync(join(home, 'mirrors')).filter((n) => !n.endsWith('.lock'))).toHaveLength(1);
  });

  it('refuses --repository with a project path, a SHA not on the remote, and a ref that does not exist', async () => {
    const root = tempDir();
    makeRepo(join(root, 'served', 'repo'), demoProject());
    const stray = makeRepo(join(root, 'stray'), { x: '1\n' });
    const home = join(root, 'home');
    const url = `file://${join(root, 'served', 'repo')}`;
    const both = kiln(['build', 'somewhere', '--repository', url], { cwd: root, home });
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('kiln: error KILN_USAGE');
    expect(both.stderr).toContain('cannot go with it');
    const sha = kiln(['build', '--repository', url, '--rev', stray], { cwd: root, home });
    expect(sha.status).toBe(2);
    expect(sha.stderr).toContain(`kiln: error KILN_SOURCE_GIT: ref ${stray} is not a branch, tag or commit of ${url}`);
    const ref = kiln(['build', '--repository', url, '--rev', 'nope'], { cwd: root, home });
    expect(ref.stderr).toContain(`ref nope is not a branch, tag or commit of ${url}`);
    expect(existsSync(join(root, 'kiln-out'))).toBe(false);
  });
});
