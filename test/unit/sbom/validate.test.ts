import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKilnError, type KilnError } from '../../../src/core/errors.js';
import { compileCycloneDxSchema } from '../../../src/sbom/formats/cyclonedx/ajv.js';
import { validateCycloneDx } from '../../../src/sbom/index.js';
import { VECTORS } from '../../helpers/vectors.js';

const EXAMPLES = path.join(VECTORS, 'cyclonedx/examples-1.6');
const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
const load = (file: string): unknown => JSON.parse(readFileSync(path.join(EXAMPLES, file), 'utf8'));

function failure(doc: unknown): KilnError {
  try {
    validateCycloneDx(doc);
  } catch (err) {
    if (isKilnError(err)) return err;
    throw err;
  }
  throw new Error('expected the document to be rejected');
}

const minimal = (extra: Record<string, unknown>) => ({ bomFormat: 'CycloneDX', specVersion: '1.6', ...extra });

describe('validateCycloneDx against the official 1.6 examples', () => {
  it('finds both valid and invalid examples', () => {
    expect(examples.filter((f) => f.startsWith('valid-')).length).toBeGreaterThanOrEqual(5);
    expect(examples.filter((f) => f.startsWith('invalid-')).length).toBeGreaterThanOrEqual(4);
  });

  for (const file of examples.filter((f) => f.startsWith('valid-'))) {
    it(`accepts ${file}`, () => {
      expect(() => validateCycloneDx(load(file))).not.toThrow();
    });
  }

  for (const file of examples.filter((f) => f.startsWith('invalid-'))) {
    it(`rejects ${file} with KILN_SBOM_INVALID`, () => {
      const err = failure(load(file));
      expect(err.code).toBe('KILN_SBOM_INVALID');
      expect(err.details?.problems).toEqual(expect.arrayContaining([expect.any(String)]));
    });
  }
});

describe('validateCycloneDx error reports', () => {
  it('names the instance path of each violation', () => {
    const err = failure(load('invalid-component-type-1.6.json'));
    expect(err.message).toContain(
      '/components/0/type: must be equal to one of the allowed values (application, framework, library',
    );
  });

  it('lists every problem, not just the first', () => {
    const err = failure(
      minimal({
        serialNumber: 'not-a-urn',
        components: [{ type: 'library', name: 'a', hashes: [{ alg: 'SHA-256', content: 'foo' }] }],
        extra: 1,
      }),
    );
    const problems = err.details?.problems as string[];
    expect(problems).toEqual(
      expect.arrayContaining([
        '(document): must NOT have additional properties "extra"',
        expect.stringMatching(/^\/serialNumber: must match pattern/),
        expect.stringMatching(/^\/components\/0\/hashes\/0\/content: must match pattern/),
      ]),
    );
  });

  it('checks iri-reference and idn-email formats, which ajv-formats lacks', () => {
    const ref = (url: string) => minimal({ externalReferences: [{ type: 'website', url }] });
    expect(() => validateCycloneDx(ref('https://例え.jp/パス?q=ü'))).not.toThrow();
    expect(failure(ref('https://exa mple.com/')).message).toContain(
      '/externalReferences/0/url: must match format "iri-reference"',
    );
    const contact = (email: string) => minimal({ metadata: { authors: [{ email }] } });
    expect(() => validateCycloneDx(contact('jürgen@beispiel.de'))).not.toThrow();
    expect(failure(contact('not an email')).message).toContain(
      '/metadata/authors/0/email: must match format "idn-email"',
    );
  });

  it('rejects things that are not objects', () => {
    for (const doc of [null, 'CycloneDX', [], 42]) expect(failure(doc).code).toBe('KILN_SBOM_INVALID');
  });
});

describe('validateCycloneDx uniqueItems', () => {
  const library = (name: string, extra: Record<string, unknown> = {}) => ({
    type: 'library',
    'bom-ref': `pkg:npm/${name}@1.0.0`,
    name,
    version: '1.0.0',
    ...extra,
  });

  it('rejects equal items whatever their key order, and names the pair as JSON Schema validators do', () => {
    const doc = minimal({
      components: [
        library('a', { hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }] }),
        library('b'),
        {
          hashes: [{ content: 'a'.repeat(64), alg: 'SHA-256' }],
          version: '1.0.0',
          name: 'a',
          'bom-ref': 'pkg:npm/a@1.0.0',
          type: 'library',
        },
      ],
      dependencies: [{ ref: 'pkg:npm/a@1.0.0', dependsOn: ['pkg:npm/b@1.0.0', 'pkg:npm/c@1.0.0', 'pkg:npm/b@1.0.0'] }],
    });
    expect(failure(doc).details?.problems).toEqual([
      '/components: must NOT have duplicate items (items ## 0 and 2 are identical)',
      '/dependencies/0/dependsOn: must NOT have duplicate items (items ## 0 and 2 are identical)',
    ]);
  });

  it('finds the repeat among items that differ only in nested values', () => {
    const hashed = (c: string) => library('a', { hashes: [{ alg: 'SHA-256', content: c.repeat(64) }] });
    const problems = (components: unknown[]) => failure(minimal({ components })).details?.problems;
    expect(problems([hashed('a'), hashed('b'), hashed('b')])).toEqual([
      '/components: must NOT have duplicate items (items ## 1 and 2 are identical)',
    ]);
    expect(problems([hashed('a'), hashed('b'), hashed('c'), hashed('a')])).toEqual([
      '/components: must NOT have duplicate items (items ## 0 and 3 are identical)',
    ]);
  });

  it('tells items apart by type and by nested values', () => {
    const doc = minimal({
      components: [
        library('a', { hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }] }),
        library('a', { hashes: [{ alg: 'SHA-256', content: 'b'.repeat(64) }] }),
      ],
      metadata: { lifecycles: [{ phase: 'build' }, { phase: 'post-build' }] },
      dependencies: [{ ref: 'x', dependsOn: ['{"ref":"y"}', 'y'] }],
    });
    expect(() => validateCycloneDx(doc)).not.toThrow();
  });

  // Ajv checks `uniqueItems` by comparing every pair of items (hours for 50,000 components); the time itself is
  // measured in bench/sbom-scale.mjs, not here. What a test can see: no such check is left in the compiled schema.
  it('compiles every uniqueItems of the schema into the linear check', () => {
    const compiled = JSON.stringify(compileCycloneDxSchema().validate.schema);
    expect(compiled).not.toContain('"uniqueItems"');
    expect(compiled.match(/"kiln:uniqueItems":true/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('checks a document of 5,000 components and their edges', () => {
    const n = 5_000;
    const ref = (i: number) => `pkg:npm/p${i}@1.0.0`;
    const doc = minimal({
      components: Array.from({ length: n }, (_, i) => library(`p${i}`)),
      dependencies: Array.from({ length: n }, (_, i) => ({
        ref: ref(i),
        dependsOn: i === 0 ? Array.from({ length: n - 1 }, (_, j) => ref(j + 1)) : [ref((i + 1) % n), ref((i + 2) % n)],
      })),
    });
    expect(() => validateCycloneDx(doc)).not.toThrow();
  });
});
