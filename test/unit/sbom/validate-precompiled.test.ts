import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { compileCycloneDxSchema, PRECOMPILED_VALIDATOR_FILE } from '../../../src/sbom/formats/cyclonedx/ajv.js';
import { cycloneDxValidatorSource } from '../../../src/sbom/formats/cyclonedx/standalone.js';
import {
  assertValid,
  loadPrecompiledValidator,
  type SchemaCheck,
} from '../../../src/sbom/formats/cyclonedx/validate.js';
import {
  compileSpdxSchema,
  PRECOMPILED_SPDX_VALIDATOR_FILE,
  spdxValidatorSource,
} from '../../../src/sbom/formats/spdx/validate.js';
import { fileTempDir, tempDir } from '../../helpers/tmp.js';
import { VECTORS } from '../../helpers/vectors.js';

// vitest runs src/, where validateCycloneDx falls back to compiling the schema; this file checks the build's
// precompiled validator (written by the same code as scripts/gen-validators.mjs) against that fallback.

const EXAMPLES = path.join(VECTORS, 'cyclonedx/examples-1.6');
const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
const load = (file: string): unknown => JSON.parse(readFileSync(path.join(EXAMPLES, file), 'utf8'));
const minimal = (extra: Record<string, unknown>) => ({ bomFormat: 'CycloneDX', specVersion: '1.6', ...extra });

const adversarial: Record<string, unknown> = {
  'not an object': [],
  null: null,
  'many problems': minimal({
    serialNumber: 'not-a-urn',
    components: [{ type: 'library', name: 'a', hashes: [{ alg: 'SHA-256', content: 'foo' }] }],
    extra: 1,
  }),
  'an IRI': minimal({ externalReferences: [{ type: 'website', url: 'https://例え.jp/パス?q=ü' }] }),
  'a bad IRI': minimal({ externalReferences: [{ type: 'website', url: 'https://exa mple.com/' }] }),
  'a lone surrogate in an IRI': minimal({ externalReferences: [{ type: 'website', url: 'https://a.b/\ud800' }] }),
  'an IDN email': minimal({ metadata: { authors: [{ email: 'jürgen@beispiel.de' }] } }),
  'a bad email': minimal({ metadata: { authors: [{ email: 'not an email' }] } }),
  'a bad date-time': minimal({ metadata: { timestamp: '2024-13-45T99:00:00Z' } }),
  'an over-long enum': minimal({ components: [{ type: 'gadget', name: 'x' }] }),
  'repeated items': minimal({
    components: [
      { type: 'library', name: 'a', version: '1' },
      { type: 'library', name: 'b' },
      { version: '1', name: 'a', type: 'library' },
    ],
    dependencies: [{ ref: 'a', dependsOn: ['b', 'c', 'b', 'c'] }],
  }),
};
const cases: [string, unknown][] = [
  ...examples.map((f): [string, unknown] => [f, load(f)]),
  ...Object.entries(adversarial),
];

function report(check: SchemaCheck, doc: unknown): string | undefined {
  try {
    assertValid(check, doc);
    return undefined;
  } catch (err) {
    if (isKilnError(err)) return err.message;
    throw err;
  }
}

let precompiled: SchemaCheck;
let runtime: SchemaCheck;

beforeAll(() => {
  // The generated module requires Ajv's runtime helpers, so it must sit where node_modules resolves, as in dist/.
  const dir = fileTempDir();
  symlinkSync(path.resolve(process.cwd(), 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const file = path.join(dir, PRECOMPILED_VALIDATOR_FILE);
  writeFileSync(file, cycloneDxValidatorSource());
  const loaded = loadPrecompiledValidator(pathToFileURL(file));
  if (loaded === undefined) throw new Error(`the generated validator was not loaded from ${file}`);
  precompiled = loaded;
  runtime = compileCycloneDxSchema().validate;
});

describe('the precompiled CycloneDX validator', () => {
  for (const [name, doc] of cases) {
    it(`gives the run-time compiled validator's verdict and errors for ${name}`, () => {
      const verdict = runtime(doc);
      expect(precompiled(doc)).toBe(verdict);
      expect(precompiled.errors ?? null).toEqual(runtime.errors ?? null);
      expect(report(precompiled, doc)).toBe(report(runtime, doc));
    });
  }

  it('reports the examples as the 1.6 suite names them', () => {
    for (const file of examples) expect(precompiled(load(file)), file).toBe(file.startsWith('valid-'));
    expect(report(precompiled, load('invalid-component-type-1.6.json'))).toContain(
      '/components/0/type: must be equal to one of the allowed values (application, framework, library',
    );
    expect(report(precompiled, adversarial['a bad IRI'])).toContain(
      '/externalReferences/0/url: must match format "iri-reference"',
    );
  });

  it('is absent, not an error, when the build did not generate it', () => {
    expect(loadPrecompiledValidator(pathToFileURL(path.join(tempDir(), PRECOMPILED_VALIDATOR_FILE)))).toBeUndefined();
  });
});

describe('the precompiled SPDX validator', () => {
  const example = JSON.parse(readFileSync(path.join(VECTORS, 'spdx/SPDXJSONExample-v2.3.spdx.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const spdxCases: [string, unknown][] = [
    ['the SPDX 2.3 example', example],
    ['a package without a name', { ...example, packages: [{ SPDXID: 'SPDXRef-x', downloadLocation: 'NONE' }] }],
    ['a wrong spdxVersion type', { ...example, spdxVersion: 23 }],
    ['not an object', 'SPDX'],
  ];
  let generated: SchemaCheck;
  let compiled: SchemaCheck;

  beforeAll(() => {
    const dir = fileTempDir();
    symlinkSync(path.resolve(process.cwd(), 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const file = path.join(dir, PRECOMPILED_SPDX_VALIDATOR_FILE);
    writeFileSync(file, spdxValidatorSource());
    const loaded = loadPrecompiledValidator(pathToFileURL(file));
    if (loaded === undefined) throw new Error(`the generated validator was not loaded from ${file}`);
    generated = loaded;
    compiled = compileSpdxSchema();
  });

  for (const [name, doc] of spdxCases) {
    it(`gives the run-time compiled validator's verdict and errors for ${name}`, () => {
      expect(generated(doc)).toBe(compiled(doc));
      expect(generated.errors ?? null).toEqual(compiled.errors ?? null);
    });
  }

  it('accepts the example and rejects the broken documents', () => {
    expect(spdxCases.map(([, doc]) => generated(doc))).toEqual([true, false, false, false]);
  });
});
