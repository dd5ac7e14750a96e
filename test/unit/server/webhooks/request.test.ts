// The comparison every receiver uses: the whole value is compared (timingSafeEqual on equal lengths), and a length
// mismatch is false without an exception; the size check comes before everything else.
import { describe, expect, it } from 'vitest';
import { checkBodySize, constantTimeEqual, headerOf } from '../../../../src/server/webhooks/request.js';
import { failure } from './fixtures.js';

describe('constantTimeEqual', () => {
  it('is true only for the same bytes, however they differ', () => {
    const a = Buffer.from('sha256=0123456789abcdef');
    expect(constantTimeEqual(a, Buffer.from('sha256=0123456789abcdef'))).toBe(true);
    expect(constantTimeEqual(a, Buffer.from('sha256=0123456789abcdee'))).toBe(false); // last byte
    expect(constantTimeEqual(a, Buffer.from('Sha256=0123456789abcdef'))).toBe(false); // first byte
    expect(constantTimeEqual(a, Buffer.from('sha256=0123456789abcde'))).toBe(false); // a prefix
    expect(constantTimeEqual(a, Buffer.from('sha256=0123456789abcdef0'))).toBe(false); // longer
    expect(constantTimeEqual(Buffer.alloc(0), a)).toBe(false);
    expect(constantTimeEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });
});

describe('checkBodySize and headerOf', () => {
  const request = (size: number, maxBodyBytes: number) => ({
    headers: { 'X-Mixed': 'yes' },
    rawBody: Buffer.alloc(size),
    secret: 's',
    maxBodyBytes,
  });

  it('allows a body of exactly the limit and refuses one byte more with 413', () => {
    expect(() => checkBodySize(request(100, 100), 'Test')).not.toThrow();
    failure(() => checkBodySize(request(101, 100), 'Test'), 'KILN_PAYLOAD_TOO_LARGE', 413, []);
  });

  it('refuses a limit that is not a positive integer (a bug in the caller)', () => {
    expect(() => checkBodySize(request(1, 0), 'Test')).toThrow(TypeError);
    expect(() => checkBodySize(request(1, Number.NaN), 'Test')).toThrow(TypeError);
  });

  it('finds a header whatever the case of its name', () => {
    expect(headerOf(request(0, 1), 'x-mixed')).toBe('yes');
    expect(headerOf(request(0, 1), 'x-other')).toBeUndefined();
  });
});
