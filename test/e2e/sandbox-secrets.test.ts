import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

// Key material and credentials kept where the sandbox's toolchain binds show them (/etc, /usr): a step must not
// read any of them, and a Kiln home there stays hidden as a whole.
const ETC = `/etc/kiln-test-${randomBytes(6).toString('hex')}`;

const PROBE = `name: secrets
steps:
  probe:
    run: |
      echo "key: $(cat ${ETC}/signing.key 2>&1 | head -c 60)"
      echo "docker: $(cat ${ETC}/docker/config.json 2>&1)"
      echo "home: $(ls ${ETC}/home 2>&1 | tr '\\n' ' ')"
      exit 3
    outputs: [out]
artifacts:
  - name: secrets
    from: probe
    path: out
`;

describe('secrets outside the Kiln home', () => {
  afterAll(() => rmSync(ETC, { recursive: true, force: true }));

  it('are hidden from steps: a --key file, the registry credentials and a home under /etc', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, { 'kiln.yaml': PROBE });
    mkdirSync(join(ETC, 'docker'), { recursive: true });
    writeFileSync(join(ETC, 'docker', 'config.json'), '{"auths":{"r.example":{"auth":"UkVHSVNUUlktU0VDUkVU"}}}');
    const home = join(ETC, 'home');
    const generated = kiln(['keys', 'generate', '--out', join(ETC, 'signing')], { cwd: repo, home });
    expect(generated.status).toBe(0);

    const env = { DOCKER_CONFIG: join(ETC, 'docker') };
    const run = kiln(['build', '--key', join(ETC, 'signing.key')], { cwd: repo, home, env });

    expect(run.stderr).toContain('step probe failed with exit code 3');
    expect(run.stderr).toMatch(/\| key: (cat: [^\n]*)?\n/); // empty (masked) or unreadable, never the PEM
    expect(run.stderr).not.toContain('PRIVATE KEY');
    expect(run.stderr).not.toContain('UkVHSVNUUlktU0VDUkVU');
    expect(run.stderr).toMatch(/\| home: \n/); // an empty tmpfs: no store.db, keys, cache or builds
  });
});
