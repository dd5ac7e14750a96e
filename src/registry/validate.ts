// Boundary checks for everything read from a layout directory or handed in to be written: all problems, with paths.
import { isDigest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import type { Descriptor, Index, Manifest } from './types.js';
import { OCI_INDEX, OCI_MANIFEST } from './types.js';

const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const REF_NAME_RE = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

type Problems = string[];

/** True for a media type the OCI schemas accept (`type/subtype`, restricted characters). */
export function isMediaType(value: unknown): value is string {
  return typeof value === 'string' && MEDIA_TYPE_RE.test(value);
}

/** True for a ref name matching the image-layout grammar (`component ("/" component)*`). */
export function isRefName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 255 && REF_NAME_RE.test(value);
}

/** Parses and checks the `oci-layout` file; throws KILN_OCI_LAYOUT naming the file otherwise. */
export function parseLayoutFile(text: string, where: string): void {
  const value = parseJson(text, where, 'an OCI layout marker');
  if (!isObject(value) || value.imageLayoutVersion !== '1.0.0') {
    const got = isObject(value) ? JSON.stringify(value.imageLayoutVersion) : typeName(value);
    throw new KilnError(
      'KILN_OCI_LAYOUT',
      `${where}: expected {"imageLayoutVersion":"1.0.0"}, got imageLayoutVersion ${got}`,
      {
        hint: 'This directory is not an OCI image layout Kiln can write to; choose an empty or a Kiln-created directory.',
      },
    );
  }
}

/** Parses and checks index.json; reports every problem with its dot-path. */
export function parseIndex(text: string, where: string): Index {
  const value = parseJson(text, where, 'an OCI image index');
  const problems = indexProblems(value);
  if (problems.length > 0) throw invalid(where, 'an OCI image index', problems);
  return value as Index;
}

/** Parses and checks a manifest blob; reports every problem with its dot-path. */
export function parseManifest(text: string, where: string): Manifest {
  const value = parseJson(text, where, 'an OCI image manifest');
  const problems = manifestProblems(value);
  if (problems.length > 0) throw invalid(where, 'an OCI image manifest', problems);
  return value as Manifest;
}

/** Problems with an index value (empty when valid). */
export function indexProblems(value: unknown): string[] {
  const p: Problems = [];
  if (!isObject(value)) return [`(root): expected an object, got ${typeName(value)}`];
  if (value.schemaVersion !== 2) p.push(`schemaVersion: expected 2, got ${JSON.stringify(value.schemaVersion)}`);
  if (value.mediaType !== undefined && value.mediaType !== OCI_INDEX) {
    p.push(`mediaType: expected ${OCI_INDEX}, got ${JSON.stringify(value.mediaType)}`);
  }
  if (!Array.isArray(value.manifests)) p.push(`manifests: expected an array, got ${typeName(value.manifests)}`);
  else {
    for (const [i, d] of value.manifests.entries()) descriptorProblems(d, `manifests[${i}]`, p);
  }
  annotationProblems(value.annotations, 'annotations', p);
  return p;
}

/** Problems with a manifest value (empty when valid). */
export function manifestProblems(value: unknown): string[] {
  const p: Problems = [];
  if (!isObject(value)) return [`(root): expected an object, got ${typeName(value)}`];
  if (value.schemaVersion !== 2) p.push(`schemaVersion: expected 2, got ${JSON.stringify(value.schemaVersion)}`);
  if (value.mediaType !== OCI_MANIFEST) {
    p.push(`mediaType: expected ${OCI_MANIFEST}, got ${JSON.stringify(value.mediaType)}`);
  }
  if (value.artifactType !== undefined && !isMediaType(value.artifactType)) {
    p.push(`artifactType: expected a media type, got ${JSON.stringify(value.artifactType)}`);
  }
  descriptorProblems(value.config, 'config', p);
  if (!Array.isArray(value.layers) || value.layers.length === 0) {
    p.push(`layers: expected a non-empty array, got ${typeName(value.layers)}`);
  } else {
    for (const [i, d] of value.layers.entries()) descriptorProblems(d, `layers[${i}]`, p);
  }
  if (value.subject !== undefined) descriptorProblems(value.subject, 'subject', p);
  annotationProblems(value.annotations, 'annotations', p);
  return p;
}

/** Appends problems with one descriptor at `path` to `p`. */
export function descriptorProblems(value: unknown, path: string, p: Problems): void {
  if (!isObject(value)) {
    p.push(`${path}: expected a descriptor object, got ${typeName(value)}`);
    return;
  }
  if (!isMediaType(value.mediaType)) p.push(`${path}.mediaType: expected a media type, got ${show(value.mediaType)}`);
  if (!isDigest(value.digest)) p.push(`${path}.digest: expected sha256:<64 hex>, got ${show(value.digest)}`);
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    p.push(`${path}.size: expected a non-negative integer, got ${show(size)}`);
  }
  if (value.artifactType !== undefined && !isMediaType(value.artifactType)) {
    p.push(`${path}.artifactType: expected a media type, got ${show(value.artifactType)}`);
  }
  if (value.urls !== undefined && !(Array.isArray(value.urls) && value.urls.every(isUrl))) {
    p.push(`${path}.urls: expected an array of absolute URLs`);
  }
  if (value.data !== undefined && (typeof value.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value.data))) {
    p.push(`${path}.data: expected base64`);
  }
  annotationProblems(value.annotations, `${path}.annotations`, p);
}

function annotationProblems(value: unknown, path: string, p: Problems): void {
  if (value === undefined) return;
  if (!isObject(value)) {
    p.push(`${path}: expected an object of strings, got ${typeName(value)}`);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') p.push(`${path}.${k}: expected a string, got ${typeName(v)}`);
  }
}

/** Throws KILN_USAGE listing the problems when `descriptor` is not a valid descriptor. */
export function assertDescriptor(value: unknown, what: string): asserts value is Descriptor {
  const p: Problems = [];
  descriptorProblems(value, what, p);
  if (p.length > 0) throw new KilnError('KILN_USAGE', `${what} is not a valid OCI descriptor: ${p.join('; ')}`);
}

function invalid(where: string, what: string, problems: string[]): KilnError {
  const shown = problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; … ${problems.length - 10} more` : '');
  return new KilnError('KILN_OCI_LAYOUT', `${where} is not ${what} (${problems.length} problems): ${shown}`, {
    hint: 'The layout was modified by hand or by another tool; restore it from a backup or publish into a new directory.',
    details: { problems },
  });
}

function parseJson(text: string, where: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new KilnError('KILN_OCI_LAYOUT', `${where} is not ${what}: not valid JSON`, {
      hint: 'The file is truncated or was edited by hand; restore it or publish into a new directory.',
      cause,
    });
  }
}

function isUrl(v: unknown): boolean {
  return typeof v === 'string' && URL.canParse(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : 'an array';
  return typeof v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 80 ? `${s.slice(0, 77)}…` : s;
}
