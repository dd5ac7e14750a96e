import { beforeAll, describe, expect, it } from 'vitest';
import { indexProblems, manifestProblems } from '../../../src/registry/index.js';
import type { SchemaCheck } from '../../helpers/oci.js';
import { loadOciSchemas } from '../../helpers/oci.js';

const D = { mediaType: 'application/octet-stream', digest: `sha256:${'a'.repeat(64)}`, size: 3 };
const M = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: D, layers: [D] };
const I = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [D] };

// Adversarial variants: all but the first two of each list break the official schema, and Kiln must refuse them too.
const manifests: [string, unknown][] = [
  ['valid', M],
  [
    'valid with subject and annotations',
    { ...M, subject: D, annotations: { a: 'b' }, artifactType: 'application/x.y' },
  ],
  ['schemaVersion 1', { ...M, schemaVersion: 1 }],
  ['schemaVersion "2"', { ...M, schemaVersion: '2' }],
  ['no layers', { ...M, layers: [] }],
  ['layers not an array', { ...M, layers: D }],
  ['no config', { ...M, config: undefined }],
  ['negative size', { ...M, config: { ...D, size: -1 } }],
  ['fractional size', { ...M, config: { ...D, size: 1.5 } }],
  ['size as string', { ...M, layers: [{ ...D, size: '3' }] }],
  ['bad digest', { ...M, layers: [{ ...D, digest: 'sha256' }] }],
  ['bad media type', { ...M, layers: [{ ...D, mediaType: 'nope' }] }],
  ['annotation value number', { ...M, annotations: { a: 1 } }],
  ['artifactType bad', { ...M, artifactType: 'x' }],
  ['subject not an object', { ...M, subject: 'sha256:abc' }],
  ['urls not strings', { ...M, layers: [{ ...D, urls: [1] }] }],
  ['url not a URI', { ...M, layers: [{ ...D, urls: ['not a uri'] }] }],
  ['array root', [M]],
  ['null', null],
];
const indexes: [string, unknown][] = [
  ['valid', I],
  ['valid and empty', { schemaVersion: 2, manifests: [] }],
  ['manifests missing', { schemaVersion: 2 }],
  ['entry without digest', { ...I, manifests: [{ ...D, digest: undefined }] }],
  ['entry size huge fraction', { ...I, manifests: [{ ...D, size: 1e300 + 0.5 }] }],
  ['annotations array', { ...I, annotations: ['a'] }],
  ['schemaVersion 3', { ...I, schemaVersion: 3 }],
];

let schemas: Record<'manifest' | 'index', SchemaCheck>;
beforeAll(async () => {
  schemas = await loadOciSchemas();
});

describe('Kiln validators are at least as strict as the official OCI schemas', () => {
  it.each(manifests)('manifest: %s', (name, value) => {
    const clean = JSON.parse(JSON.stringify(value)) as unknown;
    const valid = name.startsWith('valid');
    expect(schemas.manifest(clean).length === 0).toBe(valid);
    expect(manifestProblems(clean).length === 0).toBe(valid);
  });
  it.each(indexes)('index: %s', (name, value) => {
    const clean = JSON.parse(JSON.stringify(value)) as unknown;
    const valid = name.startsWith('valid');
    expect(schemas.index(clean).length === 0).toBe(valid);
    expect(indexProblems(clean).length === 0).toBe(valid);
  });
  it('is stricter than the schema where Kiln needs it (sha256 only, sizes non-negative)', () => {
    const foreign = {
      ...I,
      manifests: [
        { ...D, digest: `sha512:${'a'.repeat(128)}` },
        { ...D, size: -1 },
      ],
    };
    expect(schemas.index(foreign)).toEqual([]);
    expect(indexProblems(foreign)).toHaveLength(2);
  });
  it('accepts what both accept', () => {
    expect(schemas.manifest(M)).toEqual([]);
    expect(manifestProblems(M)).toEqual([]);
    expect(schemas.index(I)).toEqual([]);
    expect(indexProblems(I)).toEqual([]);
  });
  it('names every problem with its path', () => {
    expect(
      manifestProblems({ schemaVersion: 2, config: 1, layers: [{ ...D, size: -1 }], annotations: { x: 2 } }),
    ).toEqual([
      'mediaType: expected application/vnd.oci.image.manifest.v1+json, got undefined',
      'config: expected a descriptor object, got number',
      'layers[0].size: expected a non-negative integer, got -1',
      'annotations.x: expected a string, got number',
    ]);
  });
});
