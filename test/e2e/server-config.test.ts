// `kiln config check --server` and `kiln config schema --server`, run as a user runs them (the built CLI).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverJsonSchema } from '../../src/config/index.js';
import { guideYamlExample } from '../helpers/docs.js';
import { kiln } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const INLINE_SECRET = `projects:
  - name: app
    repository: https://git.example.com/team/app.git
    webhooks:
      github:
        secret: hunter2-is-the-secret
    colour: blue
`;

describe('kiln config --server', () => {
  it('checks the full example of docs/guide/server.md: ok', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'kiln-server.yaml'), guideYamlExample('server.md', 'A full kiln-server.yaml'));
    const r = kiln(['config', 'check', '--server', 'kiln-server.yaml'], { cwd: dir, home: join(dir, 'home') });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${join(dir, 'kiln-server.yaml')}: ok\n`);
  });

  it('reports every problem with file:line:column and exits 2, never echoing a secret', () => {
    const dir = tempDir();
    const file = join(dir, 'kiln-server.yaml');
    writeFileSync(file, INLINE_SECRET);
    const r = kiln(['config', 'check', '--server', file], { cwd: dir, home: join(dir, 'home') });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`kiln: error KILN_CONFIG_INVALID: ${file} has 2 problem(s):`);
    expect(r.stderr).toContain(
      `${file}:6:17: projects[0].webhooks.github.secret: a secret is never written inline: reference it, e.g. { env: GITHUB_WEBHOOK_SECRET }`,
    );
    expect(r.stderr).toContain(`${file}:7:5: projects[0].colour: unknown key "colour"`);
    expect(r.stderr).toContain('schema/kiln-server.schema.json');
    expect(r.stderr + r.stdout).not.toContain('hunter2');
    const json = kiln(['config', 'check', '--server', file, '--json'], { cwd: dir, home: join(dir, 'home') });
    expect(json.stdout + json.stderr).not.toContain('hunter2');
  });

  it('says when the file is missing, or not given', () => {
    const dir = tempDir();
    const missing = kiln(['config', 'check', '--server', 'nope.yaml'], { cwd: dir, home: join(dir, 'home') });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`error KILN_CONFIG_NOT_FOUND: no kiln-server.yaml at ${join(dir, 'nope.yaml')}`);
    const none = kiln(['config', 'check', '--server'], { cwd: dir, home: join(dir, 'home') });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('error KILN_USAGE: kiln config check --server: give the kiln-server.yaml FILE');
  });

  it('prints the kiln-server.yaml JSON Schema, and kiln.yaml’s without --server', () => {
    const dir = tempDir();
    const r = kiln(['config', 'schema', '--server'], { cwd: dir, home: join(dir, 'home') });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(serverJsonSchema());
    const plain = kiln(['config', 'schema'], { cwd: dir, home: join(dir, 'home') });
    expect(JSON.parse(plain.stdout).title).toBe('kiln.yaml');
    const help = kiln(['config', '--help'], { cwd: dir, home: join(dir, 'home') });
    expect(help.stdout).toContain('kiln config check --server FILE');
  });
});
