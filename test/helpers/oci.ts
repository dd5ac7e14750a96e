// Test helpers: the official OCI JSON schemas (draft-04), temp dirs, and a JS build of the registry for child processes.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { transpileSources } from './transpile.js';

// Both are CommonJS with `exports.default`; under NodeNext the default import is the whole module.
const Ajv04 = Ajv04Module.default;
const addFormats = addFormatsModule.default;

import { VECTORS } from './vectors.js';

const SCHEMA_DIR = path.join(VECTORS, 'oci-image-spec', 'schema');
const BASE = 'https://opencontainers.org/schema/';

type Schema = Record<string, unknown>;
/** A validator for one official schema; returns the ajv error list (empty when valid). */
export type SchemaCheck = (value: unknown) => string[];

/**
 * Loads the OCI schemas by file name. The upstream files nest `id`s that move the ref base around
 * (upstream Go loads them through a file-name map), so ids are dropped and each file is registered as
 * BASE + its file name; every `"x.json#…"` ref then resolves to the sibling file, as intended.
 */
export async function loadOciSchemas(): Promise<Record<'manifest' | 'index' | 'layout' | 'descriptor', SchemaCheck>> {
  const ajv = new Ajv04({ allErrors: true, strict: false });
  addFormats(ajv as unknown as Parameters<typeof addFormats>[0]);
  for (const file of await readdir(SCHEMA_DIR)) {
    if (!file.endsWith('.json')) continue;
    const schema = stripIds(JSON.parse(await readFile(path.join(SCHEMA_DIR, file), 'utf8'))) as Schema;
    ajv.addSchema({ ...schema, id: BASE + file });
  }
  const check = (file: string): SchemaCheck => {
    const validate = ajv.getSchema(BASE + file);
    if (!validate) throw new Error(`schema ${file} not loaded`);
    return (value) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
  };
  return {
    manifest: check('image-manifest-schema.json'),
    index: check('image-index-schema.json'),
    layout: check('image-layout-schema.json'),
    descriptor: check('content-descriptor.json'),
  };
}

function stripIds(value: unknown, inProperties = false): unknown {
  if (Array.isArray(value)) return value.map((v) => stripIds(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Schema = {};
  for (const [k, v] of Object.entries(value)) {
    if (!inProperties && k === 'id' && typeof v === 'string') continue;
    out[k] = stripIds(v, !inProperties && (k === 'properties' || k === 'definitions'));
  }
  return out;
}

/** A fresh temp directory; remove it with `rm(dir, { recursive: true })`. */
export function tempDir(prefix = 'kiln-registry-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** Every path under `dir` (relative), recursively, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** The real registry code, transpiled into `outDir`; returns the path of its index module. */
export async function buildRegistryJs(outDir: string): Promise<string> {
  transpileSources(outDir);
  return path.join(outDir, 'registry', 'index.js');
}

/** Removes a temp directory. */
export function cleanup(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Narrows away `undefined`, failing the test with `what` when it is missing. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what} to be defined`);
  return value;
}
