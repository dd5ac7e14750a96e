import { describe, expect, it } from 'vitest';
import { parseCacheMode } from '../../../src/cache/modes.js';
import { KilnError } from '../../../src/core/errors.js';

function failure(spec: string): KilnError {
  try {
    parseCacheMode(spec);
  } catch (err) {
    if (err instanceof KilnError) return err;
    throw err;
  }
  throw new Error(`accepted ${spec}`);
}

describe('parseCacheMode', () => {
  it.each([
    ['local:rw,remote:r', { local: 'rw', remote: 'r' }],
    ['local:off,remote:off', { local: 'off', remote: 'off' }],
    ['remote:rw,local:r', { local: 'r', remote: 'rw' }],
    [' local : r , remote:off ', { local: 'r', remote: 'off' }],
    ['remote:off', { local: 'rw', remote: 'off' }],
    ['local:off', { local: 'off', remote: 'rw' }],
  ])('accepts %j', (spec, expected) => {
    const modes = parseCacheMode(spec);
    expect(modes).toEqual(expected);
    expect(Object.isFrozen(modes)).toBe(true);
  });

  it.each([
    ['', 'the spec is empty'],
    ['local:rx', 'unknown mode "rx" for local (expected rw, r or off)'],
    ['disk:rw', 'unknown tier "disk" (expected local or remote)'],
    ['local', 'expected TIER:MODE'],
    ['local:rw:x', 'expected TIER:MODE'],
    ['local:rw,,remote:r', 'entry 2 "": is empty'],
    ['local:rw,local:r', 'entry 2 "local:r": local is given more than once'],
    ['LOCAL:RW', 'unknown tier "LOCAL"'],
    ['local:', 'unknown mode ""'],
  ])('rejects %j', (spec, message) => {
    const err = failure(spec);
    expect(err.code).toBe('KILN_USAGE');
    expect(err.message).toContain(`--cache ${JSON.stringify(spec)}`);
    expect(err.message).toContain(message);
    expect(err.hint).toContain('local:rw,remote:r');
  });

  it('reports every bad entry at once', () => {
    const err = failure('local:x,cloud:rw');
    expect(err.details?.problems).toHaveLength(2);
  });

  it('names where the spec came from', () => {
    expect(() => parseCacheMode('nope', 'cache.mode in kiln.yaml')).toThrow(/^cache\.mode in kiln\.yaml "nope"/);
  });
});
