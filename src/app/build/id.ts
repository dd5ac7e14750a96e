// Build ids: sortable by when the build started, and unique across a build farm by their random tail.
import { randomBytes } from 'node:crypto';

/**
 * `20261207T172734.123Z-9f8e7d6c5b4a3928`: the UTC start to the millisecond, then 64 random bits (like a UUIDv7's
 * 74, in a form people can read), so builds started in the same millisecond on any number of workers do not collide.
 * Ids of earlier versions (`20261126T011234Z-3f9a1c`: seconds and 24 random bits) stay valid wherever an id is taken.
 */
export function newBuildId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(8).toString('hex')}`;
}
