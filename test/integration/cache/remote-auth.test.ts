import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteCache } from '../../../src/cache/remote/client.js';
import { sha256Digest } from '../../../src/core/digest.js';
import { isKilnError } from '../../../src/core/errors.js';
import type { NginxCache } from '../../helpers/nginx.js';
import { startNginxCache } from '../../helpers/nginx.js';

const SECRET = 'Pa55-very-secret-word';
let nginx: NginxCache;
beforeAll(async () => {
  nginx = await startNginxCache({ auth: { user: 'kiln', password: SECRET } });
});
afterAll(async () => {
  await nginx?.stop();
});

const blob = Buffer.from('behind basic auth');
const digest = sha256Digest(blob);

function leaks(text: string): boolean {
  const basic = Buffer.from(`kiln:${SECRET}`).toString('base64');
  return text.includes(SECRET) || text.includes(basic) || text.includes('wrong-guess-123');
}

describe('remote cache with basic auth (nginx)', () => {
  it('with the Authorization header: round trip works', async () => {
    const warnings: string[] = [];
    const cache = remoteCache({
      url: nginx.url,
      mode: 'rw',
      headers: { Authorization: nginx.authHeader ?? '' },
      onWarning: (m) => warnings.push(m),
    });
    await cache.putBlob(digest, blob);
    expect(await cache.getBlob(digest)).toEqual(blob);
    expect(warnings).toEqual([]);
  });

  it('credentials in the URL become Basic auth and never show up in warnings', async () => {
    const warnings: string[] = [];
    const url = nginx.url.replace('http://', `http://kiln:${encodeURIComponent(SECRET)}@`);
    const cache = remoteCache({ url, mode: 'r', onWarning: (m) => warnings.push(m) });
    expect(cache.url).toBe(nginx.url);
    expect(await cache.hasBlob(digest)).toBe(true);

    const bad = remoteCache({
      url: nginx.url.replace('http://', 'http://kiln:wrong-guess-123@'),
      mode: 'r',
      onWarning: (m) => warnings.push(m),
    });
    expect(await bad.getBlob(digest)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings.some(leaks)).toBe(false);
  });

  it('without or with a wrong header: a miss with a clear warning that never contains the secret', async () => {
    const warnings: string[] = [];
    const anonymous = remoteCache({ url: nginx.url, mode: 'rw', onWarning: (m) => warnings.push(m) });
    expect(await anonymous.getBlob(digest)).toBeUndefined();
    await anonymous.putBlob(digest, blob);
    expect(anonymous.stats()).toMatchObject({ hits: 0, misses: 1, available: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/refused access .*HTTP 401.*check the remote cache auth header/);

    const wrong = Buffer.from('kiln:wrong-guess-123').toString('base64');
    const guessed = remoteCache({
      url: nginx.url,
      mode: 'rw',
      headers: { authorization: `Basic ${wrong}`, 'x-cache-token': SECRET },
      onWarning: (m) => warnings.push(`${m}`),
    });
    expect(await guessed.getAction('a'.repeat(64))).toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(warnings.some(leaks)).toBe(false);
  });

  it('redacts header values even when a lower layer echoes them in an error', async () => {
    const warnings: string[] = [];
    const cache = remoteCache({
      url: nginx.url,
      mode: 'rw',
      headers: { authorization: `Bearer ${SECRET}` },
      onWarning: (m) => warnings.push(m),
      fetch: async (_input, init) => {
        const auth = new Headers(init?.headers).get('authorization');
        throw new TypeError('fetch failed', { cause: new Error(`proxy rejected header ${auth}`) });
      },
      sleep: async () => undefined,
    });
    expect(await cache.getBlob(digest)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('proxy rejected header [redacted]');
    expect(warnings.some(leaks)).toBe(false);
  });

  it('invalid settings are a config error that does not echo the credentials', () => {
    let thrown: unknown;
    try {
      remoteCache({ url: `ftp://kiln:${SECRET}@example.invalid/`, mode: 'rw', headers: { 'bad header': SECRET } });
    } catch (err) {
      thrown = err;
    }
    expect(isKilnError(thrown, 'KILN_CACHE_REMOTE')).toBe(true);
    const err = thrown as Error & { hint?: string };
    expect(err.message).toContain('scheme must be http or https');
    expect(err.message).toContain('header "bad header" has an invalid name or value');
    expect(leaks(`${err.message} ${err.hint}`)).toBe(false);
    let unparsable: unknown;
    try {
      remoteCache({ url: `http://kiln:${SECRET}@[::zz]/`, mode: 'rw' });
    } catch (e) {
      unparsable = e;
    }
    expect(isKilnError(unparsable, 'KILN_CACHE_REMOTE')).toBe(true);
    expect(leaks((unparsable as Error).message)).toBe(false);
  });
});
