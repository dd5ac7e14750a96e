// The `--cache local:rw,remote:r` switch: which cache tiers a build may read and write.
import { KilnError } from '../core/errors.js';

/** What a build may do with one cache tier: read and write, read only, or not touch it. */
export type CacheTierMode = 'rw' | 'r' | 'off';

/** The mode of each cache tier; a tier the spec does not mention stays read-write. */
export interface CacheModes {
  readonly local: CacheTierMode;
  readonly remote: CacheTierMode;
}

const TIERS = ['local', 'remote'] as const;
const MODES: readonly CacheTierMode[] = ['rw', 'r', 'off'];
const EXAMPLE = 'local:rw,remote:r';

/** Parses a cache-mode spec such as `local:rw,remote:r`; reports every bad entry at once as KILN_USAGE. */
export function parseCacheMode(spec: string, where = '--cache'): CacheModes {
  const modes: { local: CacheTierMode; remote: CacheTierMode } = { local: 'rw', remote: 'rw' };
  const seen = new Set<string>();
  const problems: string[] = [];
  const entries = spec.split(',').map((e) => e.trim());
  if (spec.trim() === '') problems.push('the spec is empty');
  else
    entries.forEach((entry, i) => {
      const problem = applyEntry(entry, modes, seen);
      if (problem !== undefined) problems.push(`entry ${i + 1} ${JSON.stringify(entry)}: ${problem}`);
    });
  if (problems.length > 0) {
    throw new KilnError(
      'KILN_USAGE',
      `${where} ${JSON.stringify(spec)} is not a valid cache mode: ${problems.join('; ')}`,
      {
        hint: `write ${where} ${EXAMPLE}: comma-separated TIER:MODE with TIER local or remote (each at most once) and MODE rw, r or off; an unmentioned tier stays rw`,
        details: { spec, problems },
      },
    );
  }
  return Object.freeze(modes);
}

function applyEntry(
  entry: string,
  modes: { local: CacheTierMode; remote: CacheTierMode },
  seen: Set<string>,
): string | undefined {
  if (entry === '') return 'is empty (stray comma?)';
  const parts = entry.split(':');
  if (parts.length !== 2) return `expected TIER:MODE such as ${JSON.stringify('remote:r')}`;
  const tier = (parts[0] ?? '').trim();
  const mode = (parts[1] ?? '').trim();
  if (!isTier(tier)) return `unknown tier ${JSON.stringify(tier)} (expected local or remote)`;
  if (!isMode(mode)) return `unknown mode ${JSON.stringify(mode)} for ${tier} (expected rw, r or off)`;
  if (seen.has(tier)) return `${tier} is given more than once`;
  seen.add(tier);
  modes[tier] = mode;
  return undefined;
}

function isTier(value: string): value is (typeof TIERS)[number] {
  return (TIERS as readonly string[]).includes(value);
}

function isMode(value: string): value is CacheTierMode {
  return (MODES as readonly string[]).includes(value);
}
