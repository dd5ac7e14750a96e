// Canonical JSON: object keys sorted, no insignificant whitespace. Same value → same bytes, always.

/** Serializes `value` with sorted object keys (recursively); `indent` for human-readable files. */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

/**
 * `value` with every object's keys sorted: `value` itself where they already are, as in documents built with their
 * keys in order (copying every object of a 100k-package SBOM cost more than writing it). JSON.stringify writes an
 * object kept as it is exactly as it writes the sorted copy: the same keys in the same order (array-index keys first,
 * in numeric order, either way; undefined values left out), and only plain objects and arrays are kept, so no toJSON.
 */
function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy = isPlain(value, Array.prototype) ? undefined : new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i += 1) {
      const v: unknown = value[i];
      const s = sortKeys(v);
      if (copy === undefined && s !== v) copy = value.slice(0, i);
      if (copy !== undefined) copy[i] = s;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (!isPlain(value, Object.prototype) || !inCanonicalOrder(keys)) {
    const out: Record<string, unknown> = {};
    for (const key of keys.sort()) {
      const v = record[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  let copy: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i] as string;
    const v = record[key];
    const s = sortKeys(v);
    if (copy === undefined && s !== v) copy = Object.fromEntries(keys.slice(0, i).map((k) => [k, record[k]]));
    if (copy !== undefined && s !== undefined) copy[key] = s;
  }
  return copy ?? value;
}

/** An array or object with no prototype but `proto` (or none) and no toJSON of its own. */
function isPlain(value: object, proto: object): boolean {
  const actual = Object.getPrototypeOf(value) as unknown;
  return (actual === proto || actual === null) && !Object.hasOwn(value, 'toJSON');
}

/** Whether `keys` (in enumeration order: array indexes first) are array indexes, then the rest in ascending order. */
function inCanonicalOrder(keys: readonly string[]): boolean {
  let i = 0;
  while (i < keys.length && isArrayIndex(keys[i] as string)) i += 1;
  for (i += 1; i < keys.length; i += 1) if ((keys[i - 1] as string) >= (keys[i] as string)) return false;
  return true;
}

function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 48 && first <= 57 && /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < 2 ** 32 - 1;
}

/** Deep-freezes a plain value so plans, statements and documents cannot be mutated after creation. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    // An array's items without the copy Object.values makes: documents hold arrays of 100k items.
    if (Array.isArray(value)) for (const v of value) deepFreeze(v);
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Freezes the outline of a large document: `value` and the objects and arrays in its properties, down to `levels`
 * (1: `value` alone), but never an array's items. Those are an SBOM's 100k components, readonly by type all the way
 * down: deep-freezing them took most of a second.
 */
export function freezeOutline<T>(value: T, levels = 2): T {
  let layer: unknown[] = [value];
  for (let level = 0; level < levels && layer.length > 0; level++) {
    const next: unknown[] = [];
    for (const node of layer) {
      if (node === null || typeof node !== 'object') continue;
      Object.freeze(node);
      if (level + 1 < levels) next.push(...(Array.isArray(node) ? [] : Object.values(node)));
    }
    layer = next;
  }
  return value;
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * How deeply `value` nests arrays and objects (a scalar is 0, `[]` and `{}` are 1), counted without recursion: parsed
 * JSON can nest far deeper than the recursive walkers that would read it (validators, canonicalJson) can go.
 */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** The JSON object `text` holds; `{}` for anything else (not JSON, an array, a scalar): for columns Kiln wrote itself. */
export function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}
