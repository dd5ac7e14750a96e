import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { cycloneDxDocument, generateNpmSbom, readNpmLockfile, serializeBom } from '../../../src/sbom/index.js';

const FIXTURE = new URL('../../fixtures/sbom/npm-app-v3/', import.meta.url);
const OPTS = { commit: 'a'.repeat(40), sourceDateEpoch: 1700000000, toolName: 'kiln', toolVersion: '0.1.0' };

describe('generateNpmSbom', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-sbom-'));
    await cp(FIXTURE, join(dir, 'project'), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads <dir>/package-lock.json from disk and returns validated canonical bytes', async () => {
    const result = await generateNpmSbom({ ...OPTS, dir: join(dir, 'project') });
    if (result === undefined) throw new Error('expected an SBOM');
    const text = await readFile(join(dir, 'project', 'package-lock.json'), 'utf8');
    expect(result.graph.lockfile.path).toBe('package-lock.json');
    expect(result.graph).toEqual(readNpmLockfile(text, 'package-lock.json'));
    expect(result.bytes.equals(serializeBom(cycloneDxDocument(result.graph, OPTS)))).toBe(true);
    expect(JSON.parse(result.bytes.toString('utf8'))).toEqual(result.bom);
  });

  it('gives identical bytes on a second run', async () => {
    const a = await generateNpmSbom({ ...OPTS, dir: join(dir, 'project') });
    const b = await generateNpmSbom({ ...OPTS, dir: join(dir, 'project') });
    expect(a?.bytes.equals(b?.bytes ?? Buffer.alloc(0))).toBe(true);
  });

  it('returns undefined when the project has no package-lock.json', async () => {
    expect(await generateNpmSbom({ ...OPTS, dir: join(dir, 'no-such-dir') })).toBeUndefined();
  });

  it('uses the injected readFile and turns other read failures into KILN_IO', async () => {
    const seen: string[] = [];
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const readFileDenied = async (p: string): Promise<string> => {
      seen.push(p);
      throw denied;
    };
    const err = await generateNpmSbom({ ...OPTS, dir: '/srv/app', readFile: readFileDenied }).catch((e: unknown) => e);
    expect(seen).toEqual(['/srv/app/package-lock.json']);
    expect(isKilnError(err, 'KILN_IO')).toBe(true);
    expect((err as Error).cause).toBe(denied);
  });

  it('passes lockfile errors through with the relative file name', async () => {
    const err = await generateNpmSbom({
      ...OPTS,
      dir: '/srv/app',
      readFile: async () => '{"lockfileVersion": 3,',
    }).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_LOCKFILE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/^package-lock\.json:1:23: not valid JSON/);
  });
});
