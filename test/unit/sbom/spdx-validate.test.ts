import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { validateSpdx } from '../../../src/sbom/index.js';
import { VECTORS } from '../../helpers/vectors.js';

const EXAMPLE = path.join(VECTORS, 'spdx/SPDXJSONExample-v2.3.spdx.json');
const example = () => JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown> & { packages: unknown[] };

function problemsOf(doc: unknown): string[] {
  try {
    validateSpdx(doc);
  } catch (err) {
    if (isKilnError(err, 'KILN_SBOM_INVALID')) {
      expect(err.message).toMatch(/^document is not valid SPDX 2\.3 \(\d+ problems?\):/);
      return err.details?.problems as string[];
    }
    throw err;
  }
  throw new Error('expected the document to be rejected');
}

describe('validateSpdx against the official SPDX 2.3 example', () => {
  it('accepts the example as published', () => {
    expect(() => validateSpdx(example())).not.toThrow();
  });

  it('rejects it without spdxVersion', () => {
    const { spdxVersion: _, ...doc } = example();
    expect(problemsOf(doc)).toEqual(["(document): must have required property 'spdxVersion'"]);
  });

  it('rejects a package SPDXID outside SPDXRef-[A-Za-z0-9.-]+', () => {
    const doc = example();
    doc.packages[1] = { ...(doc.packages[1] as object), SPDXID: 'SPDXRef-from_doap/1' };
    expect(problemsOf(doc)).toEqual(
      expect.arrayContaining(['/packages/1/SPDXID: must match SPDXRef-[A-Za-z0-9.-]+, got "SPDXRef-from_doap/1"']),
    );
  });

  it('rejects packages that are not an array', () => {
    expect(problemsOf({ ...example(), packages: { glibc: {} } })).toEqual(['/packages: must be array']);
  });

  it('rejects a wrong enum value and an unknown property, naming the allowed values and the property', () => {
    const doc = example();
    doc.packages[0] = { ...(doc.packages[0] as object), primaryPackagePurpose: 'GADGET', colour: 'red' };
    expect(problemsOf(doc)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/packages\/0\/primaryPackagePurpose: must be equal to one of the allowed values \(/),
        '/packages/0: must NOT have additional properties "colour"',
      ]),
    );
  });

  it('rejects duplicate SPDXIDs and relationships to elements the document does not have', () => {
    const doc = example();
    doc.packages[2] = { ...(doc.packages[2] as object), SPDXID: 'SPDXRef-Package' };
    doc.relationships = [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Ghost' },
      { spdxElementId: 'DocumentRef-nowhere:SPDXRef-X', relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'NONE' },
    ];
    expect(problemsOf(doc)).toEqual([
      '/packages/2/SPDXID: "SPDXRef-Package" is already the SPDXID at /packages/0/SPDXID',
      '/relationships/0/relatedSpdxElement: "SPDXRef-Ghost" is no element of this document nor of a declared external document',
      '/relationships/1/spdxElementId: "DocumentRef-nowhere:SPDXRef-X" is no element of this document nor of a declared external document',
    ]);
  });

  it('rejects another SPDX version, data license, document id or date format', () => {
    const doc = {
      ...example(),
      spdxVersion: 'SPDX-2.2',
      dataLicense: 'MIT',
      SPDXID: 'SPDXRef-DOC',
      creationInfo: { created: '2010-01-29 18:30', creators: ['Tool: x-1'] },
    };
    expect(problemsOf(doc)).toEqual(
      expect.arrayContaining([
        '/spdxVersion: must be "SPDX-2.3", got "SPDX-2.2"',
        '/dataLicense: must be "CC0-1.0", got "MIT"',
        '/SPDXID: must be "SPDXRef-DOCUMENT", got "SPDXRef-DOC"',
        '/creationInfo/created: must be a UTC time YYYY-MM-DDThh:mm:ssZ, got "2010-01-29 18:30"',
      ]),
    );
  });

  it('lists every problem, not just the first', () => {
    const { spdxVersion: _, ...rest } = example();
    const doc = { ...rest, packages: 'none', documentNamespace: 'not a uri#x' };
    expect(problemsOf(doc)).toEqual(
      expect.arrayContaining([
        "(document): must have required property 'spdxVersion'",
        '/packages: must be array',
        '/documentNamespace: must be an absolute URI without "#", got "not a uri#x"',
      ]),
    );
  });

  it('rejects things that are not objects', () => {
    for (const doc of [null, 'SPDX-2.3', [], 42]) expect(problemsOf(doc)).toEqual(['(document): must be object']);
  });
});
