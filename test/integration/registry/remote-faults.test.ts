// Failures a real registry and network produce, injected by a proxy on 127.0.0.1: clear errors, bounded retries.
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Digest, digestHex, sha256Digest } from '../../../src/core/digest.js';
import type { KilnError } from '../../../src/core/errors.js';
import { createRegistryClient } from '../../../src/registry/remote/client.js';
import type { RegistryClientOptions } from '../../../src/registry/remote/session.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../../src/registry/types.js';
import { rejected } from '../../helpers/errors.js';
import {
  type Fault,
  type FaultProxy,
  freePort,
  startFaultProxy,
  startRegistry,
  type TestRegistry,
} from '../../helpers/registry.js';

let registry: TestRegistry;
let proxy: FaultProxy;
let slept: number[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry);
});
afterEach(() => {
  proxy.rule = () => undefined;
  slept = [];
});
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** A client through the proxy that never really sleeps (it records the delays) and jitters at exactly half. */
function client(extra: Partial<RegistryClientOptions> = {}) {
  return createRegistryClient({
    registry: proxy.host,
    sleep: async (ms) => void slept.push(ms),
    random: () => 0.5,
    ...extra,
  });
}

function blobOf(text: string): { digest: Digest; size: number; source: Uint8Array } {
  const bytes = Buffer.from(text);
  return { digest: sha256Digest(bytes), size: bytes.length, source: bytes };
}

/** distribution's error body (docs/spec/api.md "Errors"). */
const errorBody = (code: string, message: string): string => JSON.stringify({ errors: [{ code, message }] });

/** Pushes an empty-config manifest tagged `tag` (directly, no faults); returns its bytes and digest. */
async function pushManifest(repository: string, tag: string): Promise<{ bytes: Buffer; digest: Digest }> {
  const c = client();
  const config = blobOf('{}');
  await c.putBlob(repository, config);
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: 2 },
      layers: [],
    }),
  );
  return { bytes, digest: await c.putManifest(repository, tag, bytes, OCI_MANIFEST) };
}

describe('HTTP errors: each with its own message', () => {
  it('403: names the repository and the action that was denied, without retrying', async () => {
    proxy.rule = ({ method }) =>
      method === 'PUT'
        ? { kind: 'answer', status: 403, body: errorBody('DENIED', 'requested access to the resource is denied') }
        : undefined;
    const from = proxy.requests.length;
    const err = await rejected(pushManifest('team/locked', 'v1'));
    expect(err.code).toBe('KILN_REGISTRY_AUTH');
    expect(err.message).toBe(
      `registry ${proxy.host} denied push access to repository team/locked for anonymous access (403 Forbidden — registry says DENIED: requested access to the resource is denied)`,
    );
    expect(err.hint).toMatch(/ask the registry's administrator for push permission on team\/locked/);
    expect(proxy.requests.slice(from).filter((r) => r.startsWith('PUT'))).toHaveLength(1);
  });

  it('404: names the missing repository or manifest', async () => {
    const digest = sha256Digest('whatever');
    proxy.rule = ({ path }) =>
      path.includes('/blobs/')
        ? { kind: 'answer', status: 404, body: errorBody('NAME_UNKNOWN', 'repository name not known to registry') }
        : undefined;
    const err = await rejected(client().getBlob('team/gone', digest));
    expect(err.code).toBe('KILN_NOT_FOUND');
    expect(err.message).toBe(
      `repository team/gone does not exist on registry ${proxy.host} (looking for blob ${digest}; 404 Not Found — registry says NAME_UNKNOWN: repository name not known to registry)`,
    );
    proxy.rule = () => undefined;
    // A missing manifest is an answer, not an error: undefined (the real registry's 404 MANIFEST_UNKNOWN).
    expect(await client().getManifest('team/gone', 'v9')).toBeUndefined();
  });

  it('429: waits Retry-After (capped at 8 s), then succeeds', async () => {
    const { digest } = await pushManifest('team/limited', 'v1');
    let left = 2;
    proxy.rule = ({ method }) =>
      method === 'HEAD' && left-- > 0 ? { kind: 'answer', status: 429, headers: { 'Retry-After': '3' } } : undefined;
    expect(await client().resolve('team/limited', 'v1')).toBe(digest);
    expect(slept).toEqual([3000, 3000]);
  });

  it('429 every time: gives up after 5 attempts with the registry message', async () => {
    proxy.rule = () => ({
      kind: 'answer',
      status: 429,
      headers: { 'Retry-After': '120' },
      body: errorBody('TOOMANYREQUESTS', 'pull rate limit exceeded'),
    });
    const err = await rejected(client().getManifest('team/app', 'v1'));
    expect(err.code).toBe('KILN_REGISTRY_HTTP');
    expect(err.message).toBe(
      `registry ${proxy.host} kept rate limiting pull of manifest v1 in team/app: 429 Too Many Requests (gave up after 5 attempts) — registry says TOOMANYREQUESTS: pull rate limit exceeded`,
    );
    expect(slept).toEqual([8000, 8000, 8000, 8000]); // Retry-After 120 s, capped at 8 s.
  });

  it('500 every time: exponential backoff with full jitter, then a message naming the failure', async () => {
    proxy.rule = () => ({
      kind: 'answer',
      status: 500,
      body: errorBody('UNKNOWN', 'unknown error\n\u001b[31mdisk full'),
    });
    const err = await rejected(client().getManifest('team/app', 'v1'));
    expect(err.code).toBe('KILN_REGISTRY_HTTP');
    // Control characters from the registry body are flattened to spaces.
    expect(err.message).toBe(
      `registry ${proxy.host} failed on pull of manifest v1 in team/app: 500 Internal Server Error (gave up after 5 attempts) — registry says UNKNOWN: unknown error [31mdisk full`,
    );
    // random() = 0.5 of min(8 s, 250 ms · 2^(n-1)).
    expect(slept).toEqual([125, 250, 500, 1000]);
  });

  it('500 in the middle of a chunked upload: the upload restarts from the POST', async () => {
    let patches = 0;
    proxy.rule = ({ method }) => (method === 'PATCH' && ++patches === 1 ? { kind: 'answer', status: 500 } : undefined);
    const blob = blobOf('x'.repeat(100));
    const from = proxy.requests.length;
    await client({ chunkSize: 40 }).putBlob('team/restart', blob);
    expect(proxy.requests.slice(from).map((r) => r.split(' ')[0])).toEqual([
      'HEAD',
      'POST',
      'PATCH',
      'HEAD',
      'POST',
      'PATCH',
      'PATCH',
      'PATCH',
      'PUT',
    ]);
    expect((await client().getBlob('team/restart', blob.digest)).toString()).toBe('x'.repeat(100));
  });

  it('a registry answer with other bytes than the digest asked for is refused', async () => {
    const { digest } = await pushManifest('team/tamper', 'v1');
    const forged = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] });
    proxy.rule = ({ method, path }) =>
      method === 'GET' && path.includes('/manifests/')
        ? { kind: 'answer', status: 200, headers: { 'Content-Type': OCI_MANIFEST }, body: forged }
        : undefined;
    const err = await rejected(client().getManifest('team/tamper', digest));
    expect(err.code).toBe('KILN_VERIFY_FAILED');
    expect(err.message).toBe(
      `manifest ${digest} from ${proxy.host}/team/tamper has digest ${sha256Digest(forged)}: the registry returned other bytes than it names`,
    );
    // By tag, the announced Docker-Content-Digest must match the bytes too.
    proxy.rule = ({ method }) =>
      method === 'GET'
        ? {
            kind: 'answer',
            status: 200,
            headers: { 'Content-Type': OCI_MANIFEST, 'Docker-Content-Digest': digest },
            body: forged,
          }
        : undefined;
    expect((await rejected(client().getManifest('team/tamper', 'v1'))).code).toBe('KILN_VERIFY_FAILED');
    proxy.rule = ({ method }) => (method === 'GET' ? { kind: 'answer', status: 200, body: 'not the blob' } : undefined);
    expect((await rejected(client().getBlob('team/tamper', sha256Digest('{}')))).code).toBe('KILN_VERIFY_FAILED');
  });
});

describe('connection failures', () => {
  it('a reset connection is retried', async () => {
    const { digest } = await pushManifest('team/flaky', 'v1');
    let left = 2;
    proxy.rule = () => (left-- > 0 ? { kind: 'reset' } : undefined);
    expect(await client().resolve('team/flaky', 'v1')).toBe(digest);
    expect(slept).toHaveLength(2);
  });

  it('a refused connection is retried 5 times, then reported with the address', async () => {
    const port = await freePort(); // Nothing listens there.
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const c = createRegistryClient({
      registry: `127.0.0.1:${port}`,
      fetch: counting,
      sleep: async (ms) => void slept.push(ms),
      random: () => 0,
    });
    const err = await rejected(c.getManifest('team/app', 'v1'));
    expect(err.code).toBe('KILN_REGISTRY_HTTP');
    expect(err.message).toBe(
      `cannot reach registry 127.0.0.1:${port} (ECONNREFUSED) to pull manifest v1 in team/app (gave up after 5 attempts)`,
    );
    expect(err.hint).toContain(`listening at http://127.0.0.1:${port}`);
    expect(calls).toBe(5);
  });

  it('the registry killed after the first PATCH and restarted on the same storage: a rerun completes', async () => {
    const bytes = Buffer.alloc(300_000, 7);
    const blob = { digest: sha256Digest(bytes), size: bytes.length, source: bytes };
    let patches = 0;
    const killing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'PATCH' && ++patches === 1) await registry.kill();
      return res;
    };
    const direct = { registry: registry.host, chunkSize: 100_000, sleep: async (ms: number) => void slept.push(ms) };
    const err = await rejected(createRegistryClient({ ...direct, fetch: killing }).putBlob('team/crash', blob));
    expect(err.message).toMatch(
      /^cannot reach registry 127\.0\.0\.1:\d+ \(ECONNREFUSED\) to push blob sha256:[0-9a-f]{64} in team\/crash \(gave up after 5 attempts\)$/,
    );
    expect(patches).toBe(1);

    await registry.restart();
    const c = createRegistryClient(direct);
    expect(await c.hasBlob('team/crash', blob.digest)).toBe(false);
    await c.putBlob('team/crash', blob);
    expect((await c.getBlob('team/crash', blob.digest)).equals(bytes)).toBe(true);
    // distribution's filesystem layout: blobs/sha256/<2 hex>/<hex>/data.
    const hex = digestHex(blob.digest);
    expect(existsSync(join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'))).toBe(
      true,
    );
  });

  it('the registry restarted while the client backs off: the same putBlob call completes', async () => {
    const bytes = Buffer.alloc(250_000, 9);
    const blob = { digest: sha256Digest(bytes), size: bytes.length, source: bytes };
    let patches = 0;
    const killing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'PATCH' && ++patches === 1) await registry.kill();
      return res;
    };
    let restarts = 0;
    const restartOnce = async (): Promise<void> => {
      if (restarts++ === 0) await registry.restart();
    };
    const c = createRegistryClient({ registry: registry.host, chunkSize: 100_000, fetch: killing, sleep: restartOnce });
    await c.putBlob('team/crash2', blob);
    expect(restarts).toBe(1);
    expect((await c.getBlob('team/crash2', blob.digest)).equals(bytes)).toBe(true);
  });
});

describe('scheme and redirects', () => {
  it('refuses plain http to a non-loopback host before any request, unless insecure', async () => {
    const urls: string[] = [];
    const fake: typeof fetch = async (input) => {
      urls.push(String(input)); // Never connects anywhere: answers itself.
      return new Response(null, { status: 404 });
    };
    const err = (() => {
      try {
        createRegistryClient({ registry: 'http://10.255.255.1:5000', fetch: fake });
      } catch (e) {
        return e as KilnError;
      }
      throw new Error('expected a refusal');
    })();
    expect(err.code).toBe('KILN_USAGE');
    expect(err.message).toBe(
      'refusing http://10.255.255.1:5000 for registry 10.255.255.1:5000: plain http is only used for loopback addresses',
    );
    expect(err.hint).toBe(
      'use https, or pass --insecure-registry 10.255.255.1:5000 if this registry really has no TLS',
    );
    expect(urls).toEqual([]);

    await createRegistryClient({ registry: '10.255.255.1:5000', fetch: fake }).hasBlob('a', sha256Digest(''));
    await createRegistryClient({ registry: 'http://10.255.255.1:5000', fetch: fake, insecure: true }).hasBlob(
      'a',
      sha256Digest(''),
    );
    expect(urls.map((u) => u.slice(0, u.indexOf('/v2/')))).toEqual([
      'https://10.255.255.1:5000',
      'http://10.255.255.1:5000',
    ]);
  });

  it('follows a blob redirect to another origin without the Authorization header, and refuses http elsewhere', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const storage = createServer((req, res) => {
      seen.push(req.headers);
      res.end('{}');
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    const address = storage.address();
    const storagePort = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      // The "registry" asks for Basic credentials, then redirects the blob GET to storage on another origin.
      proxy.rule = ({ path, scheme }): Fault | undefined =>
        scheme === undefined
          ? { kind: 'answer', status: 401, headers: { 'WWW-Authenticate': 'Basic realm="test"' } }
          : path.includes('/blobs/')
            ? { kind: 'answer', status: 307, headers: { Location: `http://127.0.0.1:${storagePort}/data?sig=1` } }
            : undefined;
      const c = client({ credentials: { kind: 'basic', username: 'alice', password: 'pw', source: 'test' } });
      const from = proxy.requests.length;
      expect((await c.getBlob('team/app', sha256Digest('{}'))).toString()).toBe('{}');
      expect(proxy.requests.slice(from).map((r) => r.replace(/ \/v2\/\S+/, ''))).toEqual(['GET -', 'GET Basic']);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.authorization).toBeUndefined();

      proxy.rule = ({ path }) =>
        path.includes('/blobs/')
          ? { kind: 'answer', status: 302, headers: { Location: 'http://10.255.255.1/data' } }
          : undefined;
      const err = await rejected(client().getBlob('team/app', sha256Digest('{}')));
      expect(err.code).toBe('KILN_USAGE');
      expect(err.message).toMatch(
        /^refusing http:\/\/10\.255\.255\.1 for registry 127\.0\.0\.1:\d+: plain http is only used for loopback addresses$/,
      );
    } finally {
      storage.closeAllConnections();
      await new Promise<void>((resolve) => storage.close(() => resolve()));
    }
  });
});

describe('listings the way newer registries answer them', () => {
  it('follows Link rel="next" across pages and refuses a next page on another origin', async () => {
    const page = (
      tags: string[],
      link?: string,
    ): { kind: 'answer'; status: number; headers: Record<string, string>; body: string } => ({
      kind: 'answer',
      status: 200,
      headers: link ? { Link: link } : {},
      body: JSON.stringify({ name: 'team/paged', tags }),
    });
    // distribution 3 / OCI distribution-spec "Listing Tags": a relative Link, then an absolute one.
    proxy.rule = ({ path }) =>
      path.includes('last=b')
        ? page(['c', 'd'], `<${proxy.url}/v2/team/paged/tags/list?n=2&last=d>; rel="next"`)
        : path.includes('last=d')
          ? page(['e'])
          : page(['a', 'b'], '</v2/team/paged/tags/list?n=2&last=b>; rel="next"');
    expect(await client().listTags('team/paged')).toEqual(['a', 'b', 'c', 'd', 'e']);

    proxy.rule = () => page(['a'], '<http://127.0.0.2:1/v2/team/paged/tags/list?last=a>; rel="next"');
    const err = await rejected(client().listTags('team/paged'));
    expect(err.message).toBe(
      `registry ${proxy.host} sent an invalid tags listing for team/paged: its next page link points to another origin (http://127.0.0.2:1)`,
    );
  });

  it('reads a referrers API index, filtering by artifactType itself when the registry did not', async () => {
    const subject = sha256Digest('subject');
    const sbom = {
      mediaType: OCI_MANIFEST,
      digest: sha256Digest('sbom'),
      size: 10,
      artifactType: 'application/spdx+json',
    };
    const sig = {
      mediaType: OCI_MANIFEST,
      digest: sha256Digest('sig'),
      size: 11,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    };
    proxy.rule = ({ path }) =>
      path.startsWith(`/v2/team/app/referrers/${subject}`)
        ? {
            kind: 'answer',
            status: 200,
            headers: { 'Content-Type': OCI_INDEX },
            body: JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [sbom, sig] }),
          }
        : undefined;
    expect(await client().referrersApi('team/app', subject)).toEqual([sbom, sig]);
    expect(await client().referrersApi('team/app', subject, 'application/spdx+json')).toEqual([sbom]);
    // An answer that is not an image index means "no referrers API".
    proxy.rule = () => ({ kind: 'answer', status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html>' });
    expect(await client().referrersApi('team/app', subject)).toBeUndefined();
  });
});
