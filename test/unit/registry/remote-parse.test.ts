// Pure parts of the registry client: references, auth challenges, upload URLs, backoff, endpoints, error bodies.
import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../../src/registry/remote/challenge.js';
import { registryErrorOf } from '../../../src/registry/remote/failures.js';
import { isLoopbackHost, registryEndpoint } from '../../../src/registry/remote/http.js';
import { assertReference, formatRegistryRef, parseRegistryRef } from '../../../src/registry/remote/ref.js';
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter } from '../../../src/registry/remote/retry.js';
import { withDigest } from '../../../src/registry/remote/upload.js';
import { thrown } from '../../helpers/errors.js';

const HEX = 'a'.repeat(64);

describe('parseRegistryRef', () => {
  it('reads host, repository, tag and digest', () => {
    expect(parseRegistryRef('ghcr.io/team/app:1.0')).toEqual({
      registry: 'ghcr.io',
      repository: 'team/app',
      tag: '1.0',
    });
    expect(parseRegistryRef(`oci://127.0.0.1:5000/app@sha256:${HEX}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'app',
      digest: `sha256:${HEX}`,
    });
    expect(parseRegistryRef(`OCI://Registry.Example.com:443/a/b/c:v1@sha256:${HEX}`)).toEqual({
      registry: 'registry.example.com:443',
      repository: 'a/b/c',
      tag: 'v1',
      digest: `sha256:${HEX}`,
    });
    expect(parseRegistryRef('localhost/app')).toEqual({ registry: 'localhost', repository: 'app' });
    expect(parseRegistryRef('[::1]:5000/x:latest')).toEqual({ registry: '[::1]:5000', repository: 'x', tag: 'latest' });
    // Separators of the distribution-spec path grammar: ".", "_", "__" and runs of "-".
    expect(parseRegistryRef('ghcr.io/a-b_c.d__e---f').repository).toBe('a-b_c.d__e---f');
    expect(Object.isFrozen(parseRegistryRef('ghcr.io/a'))).toBe(true);
  });

  it.each([
    ['', /the reference is empty/],
    ['alpine', /names no registry host/],
    ['library/alpine:3', /"library" is not a registry host \(write the registry, e\.g\. docker\.io\/library\/…\)/],
    ['https://ghcr.io/a', /the scheme https:\/\/ is not accepted/],
    ['docker://ghcr.io/a', /the scheme docker:\/\/ is not accepted/],
    ['ghcr.io/Team/app', /path component "Team" is not valid \(repository names are lower-case\)/],
    ['ghcr.io/a//b', /empty path component/],
    ['ghcr.io/a/', /empty path component/],
    ['ghcr.io/', /the repository name is empty/],
    ['ghcr.io/a@sha256:abc', /digest "sha256:abc" is not sha256: followed by 64 lower-case hex/],
    [`ghcr.io/a@sha256:${'A'.repeat(64)}`, /is not sha256: followed by 64 lower-case hex/],
    [`ghcr.io/a@sha512:${HEX}`, /is not sha256 \(only sha256 is supported\)/],
    ['ghcr.io/a:-bad', /tag "-bad" is not valid/],
    [`ghcr.io/a:${'x'.repeat(129)}`, /tag ".*" is not valid/],
    ['ghcr.io:99999/a', /port 99999 is out of range/],
    ['gh_cr.io/a', /"gh_cr\.io" is not a host name/],
    ['-ghcr.io/a', /is not a host name/],
    ['ghcr.io/a..b', /path component "a\.\.b" is not valid/],
    ['ghcr.io/a__-b', /path component "a__-b" is not valid/],
    ['ghcr.io/a b', /path component "a b" is not valid/],
    ['ghcr.io/a:t:u', /path component "a:t" is not valid/],
    [`ghcr.io/${'a/'.repeat(130)}a`, /longer than 255 characters/],
  ])('rejects %j', (text, why) => {
    const err = thrown(() => parseRegistryRef(text));
    expect(err.code).toBe('KILN_USAGE');
    expect(err.message).toMatch(why);
    expect(err.hint).toMatch(/^expected host\[:port\]\/repository\[:tag\|@sha256:<64 hex>\]/);
  });

  it('formats the digest form when there is a digest', () => {
    expect(formatRegistryRef(parseRegistryRef(`oci://h:1/a:t@sha256:${HEX}`))).toBe(`h:1/a@sha256:${HEX}`);
    expect(formatRegistryRef(parseRegistryRef('h:1/a:t'))).toBe('h:1/a:t');
    expect(formatRegistryRef(parseRegistryRef('h:1/a'))).toBe('h:1/a');
  });

  it('accepts a manifest reference only as a tag or a sha256 digest', () => {
    expect(() => assertReference(`sha256:${HEX}`)).not.toThrow();
    expect(() => assertReference('v1.0_rc-1')).not.toThrow();
    expect(thrown(() => assertReference('../../etc')).code).toBe('KILN_USAGE');
    expect(thrown(() => assertReference('a/b')).code).toBe('KILN_USAGE');
  });
});

describe('parseChallenge', () => {
  it('reads Bearer challenges as distribution and Docker Hub send them', () => {
    // docs/spec/auth/token.md of distribution: the example challenge, with the insufficient_scope error.
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope"',
      ),
    ).toEqual({
      kind: 'bearer',
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:samalba/my-app:pull,push',
      error: 'insufficient_scope',
    });
    expect(parseChallenge('bearer REALM="http://127.0.0.1:1/token", service=reg')).toEqual({
      kind: 'bearer',
      realm: 'http://127.0.0.1:1/token',
      service: 'reg',
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ kind: 'basic' });
    expect(parseChallenge('Basic realm="x", Bearer realm="https://a.example/t"')).toEqual({
      kind: 'bearer',
      realm: 'https://a.example/t',
    });
  });

  it('handles quoting and refuses what it cannot trust', () => {
    expect(parseChallenge('Bearer realm="https://a/t",service="a\\"b,c"')).toEqual({
      kind: 'bearer',
      realm: 'https://a/t',
      service: 'a"b,c',
    });
    expect(parseChallenge('Bearer realm="https://first/t",realm="https://second/t"')).toMatchObject({
      realm: 'https://first/t',
    });
    expect(parseChallenge(null)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
    expect(parseChallenge('Bearer service="x"')).toBeUndefined(); // No realm.
    expect(parseChallenge('Bearer realm="javascript:alert(1)"')).toBeUndefined();
    expect(parseChallenge('Bearer realm="file:///etc/passwd"')).toBeUndefined();
    expect(parseChallenge('Bearer realm="https://a/t')).toBeUndefined(); // Unterminated quote.
    expect(parseChallenge('=,=,"')).toBeUndefined();
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
  });
});

describe('withDigest', () => {
  it('appends digest= to a Location with or without a query', () => {
    // docker-registry 2.8 answers an absolute Location that already has `?_state=` (COMPONENTS.md).
    expect(withDigest('http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=xy%3D%3D', `sha256:${HEX}`)).toBe(
      `http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=xy%3D%3D&digest=sha256%3A${HEX}`,
    );
    expect(withDigest('/v2/a/blobs/uploads/u', `sha256:${HEX}`)).toBe(`/v2/a/blobs/uploads/u?digest=sha256%3A${HEX}`);
    expect(withDigest('/u?', `sha256:${HEX}`)).toBe(`/u?digest=sha256%3A${HEX}`);
    expect(withDigest('/u?a=1&', `sha256:${HEX}`)).toBe(`/u?a=1&digest=sha256%3A${HEX}`);
    expect(withDigest('/u?a=1#frag', `sha256:${HEX}`)).toBe(`/u?a=1&digest=sha256%3A${HEX}`);
  });
});

describe('backoff', () => {
  it('grows exponentially with full jitter and stops at the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, DEFAULT_RETRY, () => 0.999));
    expect(delays).toEqual([249, 499, 999, 1998, 3996, 7992, 7992, 7992]);
    expect(backoffDelay(3, DEFAULT_RETRY, () => 0)).toBe(0);
  });

  it('honours Retry-After up to the cap', () => {
    expect(backoffDelay(1, DEFAULT_RETRY, () => 0.5, 1500)).toBe(1500);
    expect(backoffDelay(1, DEFAULT_RETRY, () => 0.5, 60_000)).toBe(8000);
    // RFC 9110 §10.2.3: delay-seconds or an HTTP-date (its example date).
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z'))).toBe(60_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2016-01-01T00:00:00Z'))).toBe(0);
    for (const bad of ['soon', '-5', '1.5', '', '99999999999']) expect(parseRetryAfter(bad, 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});

describe('registryEndpoint', () => {
  it('uses http only for loopback (or insecure), https otherwise', () => {
    expect(registryEndpoint('127.0.0.1:5000', false)).toEqual({
      host: '127.0.0.1:5000',
      origin: 'http://127.0.0.1:5000',
    });
    expect(registryEndpoint('LOCALHOST:5000', false).origin).toBe('http://localhost:5000');
    expect(registryEndpoint('[::1]:5000', false).origin).toBe('http://[::1]:5000');
    expect(registryEndpoint('ghcr.io', false).origin).toBe('https://ghcr.io');
    expect(registryEndpoint('docker.io', false)).toEqual({ host: 'docker.io', origin: 'https://registry-1.docker.io' });
    expect(registryEndpoint('127.0.0.1.nip.io:5000', false).origin).toBe('https://127.0.0.1.nip.io:5000');
    expect(registryEndpoint('https://127.0.0.1:5000/', false).origin).toBe('https://127.0.0.1:5000');
    expect(registryEndpoint('ghcr.io', true).origin).toBe('http://ghcr.io');
    expect(registryEndpoint('http://10.0.0.1:5000', true).origin).toBe('http://10.0.0.1:5000');
  });

  it('refuses plain http elsewhere, and names that are not host[:port]', () => {
    expect(thrown(() => registryEndpoint('http://ghcr.io', false)).message).toBe(
      'refusing http://ghcr.io for registry ghcr.io: plain http is only used for loopback addresses',
    );
    expect(thrown(() => registryEndpoint('ghcr.io/team', false)).code).toBe('KILN_USAGE');
    expect(thrown(() => registryEndpoint('ftp://ghcr.io', false)).code).toBe('KILN_USAGE');
    expect(thrown(() => registryEndpoint('', false)).code).toBe('KILN_USAGE');
    expect(thrown(() => registryEndpoint('127.0.0.256:5000', false)).code).toBe('KILN_USAGE'); // Not an IPv4 address.
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3:80', 'localhost', '[::1]', '[::1]:5000'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of [
      '128.0.0.1',
      '0.0.0.0',
      'localhost.example.com',
      '[::2]',
      '10.255.255.1',
      '127.0.0.1.example.com',
    ]) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });
});

describe('registryErrorOf', () => {
  it('reads the first distribution error, bounded and flattened', () => {
    // The body docker-registry 2.8 sends for an unknown blob (seen on this machine).
    const body = Buffer.from(
      `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:${HEX}"}]}`,
    );
    expect(registryErrorOf(body)).toEqual({ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' });
    const long = registryErrorOf(
      Buffer.from(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `x\n\ty${'z'.repeat(500)}` }] })),
    );
    expect(long?.message).toHaveLength(200);
    expect(long?.message.startsWith('x y')).toBe(true);
    // C0 controls become spaces; C1 controls and bidi overrides, which a terminal also obeys, are shown escaped.
    const steering = registryErrorOf(
      Buffer.from(JSON.stringify({ errors: [{ code: 'DENIED', message: 'a\u001b]0;t\u0007b\u009b2Jc\u202ed' }] })),
    );
    expect(steering?.message).toBe('a ]0;t b\\u009b2Jc\\u202ed');
    expect(registryErrorOf(Buffer.from('{"errors":[{"code":"bad code\\n","message":"m"}]}'))).toBeUndefined();
    expect(registryErrorOf(Buffer.from('<html>502</html>'))).toBeUndefined();
    expect(registryErrorOf(Buffer.from('{"errors":"no"}'))).toBeUndefined();
    expect(registryErrorOf(Buffer.alloc(0))).toBeUndefined();
  });
});
