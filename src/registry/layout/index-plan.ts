// Pure index.json updates: the lock-holding writer re-reads the index, applies one of these, writes the result.
import { deepFreeze } from '../../core/json.js';
import type { Descriptor, Index } from '../types.js';
import { ANNOTATION_REF_NAME, OCI_INDEX } from '../types.js';

/** The index of a fresh layout: no manifests. */
export function emptyIndex(): Index {
  return deepFreeze({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
}

/** The ref name an index entry carries, if any. */
export function refNameOf(entry: Descriptor): string | undefined {
  return entry.annotations?.[ANNOTATION_REF_NAME];
}

/**
 * Adds `manifest` to the index, optionally under `refName`, and returns the new (sorted, frozen) index.
 * Rules, so the result never depends on the order concurrent writers arrived in:
 * - one entry per (digest, ref name); an untagged entry is dropped when a tagged entry for the digest exists;
 * - a ref name that pointed at another manifest moves: the old entry loses the ref-name annotation but stays
 *   (untagged, so evidence pointing at it stays reachable) unless that digest is still listed anyway;
 * - entries are sorted by digest, then ref name (untagged first).
 */
export function addToIndex(index: Index, manifest: Descriptor, refName?: string): Index {
  let entries = index.manifests.slice();
  if (refName !== undefined) {
    entries = entries.map((e) => (refNameOf(e) === refName && e.digest !== manifest.digest ? withoutRefName(e) : e));
  }
  entries.push(indexEntry(manifest, refName));
  return deepFreeze({ ...index, manifests: normalizeEntries(entries) });
}

/** Removes duplicate entries and sorts, per the rules of {@link addToIndex}. */
export function normalizeEntries(entries: readonly Descriptor[]): Descriptor[] {
  const tagged = new Set(entries.filter((e) => refNameOf(e) !== undefined).map((e) => e.digest));
  const seen = new Set<string>();
  const out: Descriptor[] = [];
  for (const e of entries) {
    const ref = refNameOf(e);
    if (ref === undefined && tagged.has(e.digest)) continue;
    const key = `${e.digest}\u0000${ref ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out.sort(compareEntries);
}

/** The index entry for a manifest: its descriptor plus the ref-name annotation (nothing else from the caller). */
export function indexEntry(manifest: Descriptor, refName?: string): Descriptor {
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.size,
    ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }),
    ...(refName === undefined ? {} : { annotations: { [ANNOTATION_REF_NAME]: refName } }),
  };
}

function withoutRefName(entry: Descriptor): Descriptor {
  const { [ANNOTATION_REF_NAME]: _dropped, ...rest } = entry.annotations ?? {};
  const { annotations: _old, ...base } = entry;
  return Object.keys(rest).length > 0 ? { ...base, annotations: rest } : base;
}

function compareEntries(a: Descriptor, b: Descriptor): number {
  if (a.digest !== b.digest) return a.digest < b.digest ? -1 : 1;
  const ra = refNameOf(a) ?? '';
  const rb = refNameOf(b) ?? '';
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}
