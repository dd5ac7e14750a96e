// Build ids: sortable by when the build started, unique by their random tail.
import { randomBytes } from 'node:crypto';

/** `20261126T011234Z-3f9a1c`: UTC time then randomness. */
export function newBuildId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
