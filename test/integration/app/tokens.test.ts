// API tokens: shown once, kept only as a hash, scoped (read < trigger < admin), revocable.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { harness } from '../../helpers/harness.js';
import { kiln as kilnCli } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const k of opened.splice(0)) await k.close();
});

function kilnIn(home?: string) {
  const h = harness({ cwd: tempDir(), ...(home === undefined ? {} : { home }) });
  opened.push(h.kiln);
  return h;
}

async function failure(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isKilnError(err)) throw new Error(`expected a KilnError, got ${String(err)}`);
  return err;
}

/** Every byte under `dir`, as latin1 text to search. */
function everything(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'))
    .join('\n');
}

describe('API tokens', () => {
  it('authenticate a token for its scope and the ones below it, and refuse wider ones', async () => {
    const { kiln } = kilnIn();
    const { token, info } = await kiln.createToken({ scope: 'trigger', name: 'ci' });
    expect(token).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ scope: 'trigger', name: 'ci', revoked_at: null });
    for (const needed of ['read', 'trigger'] as const) {
      expect(await kiln.authenticate(`Bearer ${token}`, needed)).toEqual(info);
    }
    const forbidden = await failure(kiln.authenticate(`Bearer ${token}`, 'admin'));
    expect(forbidden.code).toBe('KILN_FORBIDDEN');
    expect(forbidden.message).toContain(`token ${info.id} has scope "trigger"; this request needs "admin"`);
  });

  it('refuse a missing, malformed, unknown or revoked token as unauthenticated', async () => {
    const { kiln } = kilnIn();
    const { token, info } = await kiln.createToken({ scope: 'admin' });
    for (const header of [
      undefined,
      '',
      token,
      `Basic ${token}`,
      `Bearer ${token}x`,
      `Bearer kiln_${'A'.repeat(43)}`,
    ]) {
      expect((await failure(kiln.authenticate(header, 'read'))).code).toBe('KILN_UNAUTHENTICATED');
    }
    await kiln.revokeToken(info.id);
    expect((await failure(kiln.authenticate(`Bearer ${token}`, 'read'))).code).toBe('KILN_UNAUTHENTICATED');
    expect((await failure(kiln.revokeToken(info.id))).code).toBe('KILN_NOT_FOUND');
    expect((await kiln.listTokens()).map((t) => [t.id, t.revoked_at !== null])).toEqual([[info.id, true]]);
  });

  it('keep only the hash: the token is nowhere in the home, and another Kiln on the same home accepts it', async () => {
    const first = kilnIn();
    const { token, info } = await first.kiln.createToken({ scope: 'read' });
    await first.kiln.close();
    expect(everything(first.home)).not.toContain(token.slice('kiln_'.length));
    const second = kilnIn(first.home);
    expect((await second.kiln.authenticate(`bearer  ${token}`, 'read')).id).toBe(info.id);
    expect(Object.keys((await second.kiln.listTokens())[0] ?? {})).not.toContain('token_sha256');
  });

  it('refuse an unknown scope with the list of scopes', async () => {
    const { kiln } = kilnIn();
    const err = await failure(kiln.createToken({ scope: 'root' }));
    expect([err.code, err.hint]).toEqual([
      'KILN_USAGE',
      'give --scope read, trigger, admin (each includes the ones before it)',
    ]);
  });
});

describe('kiln tokens', () => {
  it('create prints the token alone; list and revoke work on the same home', () => {
    const home = tempDir();
    const created = kilnCli(['tokens', 'create', '--scope', 'trigger', '--name', 'webhook relay'], { cwd: home, home });
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/^kiln_[A-Za-z0-9_-]{43}\n$/);
    const listed = JSON.parse(kilnCli(['tokens', 'list', '--json'], { cwd: home, home }).stdout);
    expect(listed).toEqual([
      {
        id: expect.stringMatching(/^tok_[0-9a-f]{16}$/),
        scope: 'trigger',
        name: 'webhook relay',
        created_at: expect.any(String),
        revoked_at: null,
      },
    ]);
    expect(kilnCli(['tokens', 'revoke', listed[0].id], { cwd: home, home }).stdout).toBe(`revoked ${listed[0].id}\n`);
    const table = kilnCli(['tokens', 'list'], { cwd: home, home }).stdout;
    expect(table).toMatch(
      new RegExp(`^ID +SCOPE +NAME +CREATED +REVOKED\\n${listed[0].id} +trigger +webhook relay +\\S+ +\\S+\\n$`),
    );
    const missing = kilnCli(['tokens', 'create'], { cwd: home, home });
    expect([missing.status, missing.stderr]).toEqual([
      2,
      expect.stringContaining('KILN_USAGE: kiln tokens create: --scope is required'),
    ]);
  });
});
