import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/hello-node');

describe('kiln sbom', () => {
  it('prints the CycloneDX SBOM of the lockfiles on disk, the same bytes for the same SOURCE_DATE_EPOCH', () => {
    const home = join(tempDir(), 'home');
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const a = kiln(['sbom', EXAMPLE], { cwd: EXAMPLE, home, env });
    expect(a.status, a.stderr).toBe(0);
    const bom = JSON.parse(a.stdout);
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.metadata.timestamp).toBe('2023-11-14T22:13:20Z');
    expect(bom.components.map((c: { purl: string }) => c.purl)).toContain('pkg:npm/debug@4.4.3');
    expect(bom.components).toHaveLength(8);
    expect(kiln(['sbom', EXAMPLE], { cwd: EXAMPLE, home, env }).stdout).toBe(a.stdout);
  });

  it('writes SPDX to a file with --format spdx --output, and refuses an unknown format', () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const r = kiln(['sbom', '--format', 'spdx', '--output', join(dir, 'x.spdx.json')], { cwd: EXAMPLE, home });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const doc = JSON.parse(readFileSync(join(dir, 'x.spdx.json'), 'utf8'));
    expect(doc.spdxVersion).toBe('SPDX-2.3');
    expect(doc.packages.some((p: { name: string }) => p.name === 'debug')).toBe(true);
    const bad = kiln(['sbom', '--format', 'swid'], { cwd: EXAMPLE, home });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown --format "swid"');
  });
});
