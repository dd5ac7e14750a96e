// A ToolMemo kept in a small JSON file (e.g. under the Kiln home), so a new Kiln process does not re-hash a
// ~100 MB node binary every build: ~130 ms becomes ~1 ms. It is only a cache: unreadable or malformed → empty.

import { readFile } from 'node:fs/promises';
import { isRecord } from '../core/json.js';
import type { TextSeal } from '../core/seal.js';
import { writeFileAtomic } from '../platform/fsutil.js';
import type { ToolFacts, ToolMemo } from './builder.js';

// v2: every tool has a version (v1 had versions for node, npm and git only), so v1 entries are not reused.
const FORMAT = 'kiln-tool-memo-v2';
const MAX_ENTRIES = 256; // tools × versions seen; old identities are dropped first
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * A ToolMemo loaded from `file`; `save()` writes it back (atomically) only when something was added. With `seal`,
 * the file is sealed when written and ignored unless its seal verifies: the tool digests it remembers make the
 * builder digest recorded in provenance and in every action key.
 */
export async function loadToolMemo(file: string, seal?: TextSeal): Promise<ToolMemo & { save(): Promise<void> }> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const entries = parse(seal ? (seal.open(text) ?? '') : text);
  let dirty = false;
  return {
    get: (identity) => entries.get(identity),
    set(identity, facts) {
      entries.delete(identity);
      entries.set(identity, facts);
      while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      dirty = true;
    },
    async save() {
      if (!dirty) return;
      const json = JSON.stringify({ format: FORMAT, entries: [...entries] });
      await writeFileAtomic(file, seal ? await seal.seal(json) : json);
      dirty = false;
    },
  };
}

function parse(text: string): Map<string, ToolFacts> {
  const out = new Map<string, ToolFacts>();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return out;
  }
  if (!isRecord(doc) || doc.format !== FORMAT || !Array.isArray(doc.entries)) return out;
  for (const entry of doc.entries as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) continue;
    const [identity, facts] = entry as [unknown, unknown];
    if (typeof identity !== 'string' || !isRecord(facts)) continue;
    if (typeof facts.sha256 !== 'string' || !HEX64.test(facts.sha256)) continue;
    if (facts.version !== undefined && typeof facts.version !== 'string') continue;
    out.set(
      identity,
      facts.version === undefined ? { sha256: facts.sha256 } : { sha256: facts.sha256, version: facts.version },
    );
  }
  return out;
}
