// Why a step missed the cache: the precise differences between the last build's key ingredients and this one's.
import type { ActionIngredients } from './key.js';

/** One reason for a cache miss, in words a person can act on. */
export interface MissReason {
  readonly kind:
    | 'first-build'
    | 'format'
    | 'command'
    | 'env'
    | 'network'
    | 'outputs'
    | 'input-added'
    | 'input-removed'
    | 'input-changed'
    | 'upstream'
    | 'builder'
    | 'evicted';
  readonly detail: string;
}

/** Every difference between `before` (the last build of the step) and `now`; evicted when there is none. */
export function explainMiss(before: ActionIngredients | undefined, now: ActionIngredients): MissReason[] {
  if (!before) return [{ kind: 'first-build', detail: 'no earlier build of this step is recorded' }];
  const out: MissReason[] = [];
  if (before.format !== now.format)
    out.push({ kind: 'format', detail: `cache format ${before.format} → ${now.format}` });
  if (before.command !== now.command)
    out.push({ kind: 'command', detail: `command changed: ${quote(before.command)} → ${quote(now.command)}` });
  for (const name of union(Object.keys(before.env), Object.keys(now.env))) {
    const a = before.env[name];
    const b = now.env[name];
    if (a === b) continue;
    const what = a === undefined ? 'added' : b === undefined ? 'removed' : 'changed';
    out.push({ kind: 'env', detail: `env ${name} ${what}` });
  }
  if (before.network !== now.network)
    out.push({ kind: 'network', detail: `network ${before.network} → ${now.network}` });
  if (before.outputs.join('\0') !== now.outputs.join('\0')) {
    out.push({ kind: 'outputs', detail: `declared outputs ${before.outputs.join(', ')} → ${now.outputs.join(', ')}` });
  }
  const was = new Map(before.inputs.map((i) => [i.path, i]));
  const is = new Map(now.inputs.map((i) => [i.path, i]));
  for (const path of union([...was.keys()], [...is.keys()])) {
    const a = was.get(path);
    const b = is.get(path);
    if (!a) out.push({ kind: 'input-added', detail: `input added: ${path}` });
    else if (!b) out.push({ kind: 'input-removed', detail: `input removed: ${path}` });
    else if (a.digest !== b.digest || a.executable !== b.executable) {
      out.push({ kind: 'input-changed', detail: `input changed: ${path}${a.digest === b.digest ? ' (mode)' : ''}` });
    }
  }
  for (const step of union(Object.keys(before.upstream), Object.keys(now.upstream))) {
    if (before.upstream[step] !== now.upstream[step])
      out.push({ kind: 'upstream', detail: `output of step ${step} changed` });
  }
  if (before.builder !== now.builder)
    out.push({
      kind: 'builder',
      detail: `builder (toolchain) changed: ${before.builder.slice(7, 19)} → ${now.builder.slice(7, 19)}`,
    });
  return out.length > 0
    ? out
    : [{ kind: 'evicted', detail: 'same key as the last build, but its cache entry is gone or was rejected' }];
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
