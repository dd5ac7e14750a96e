// Authentication against real registries: htpasswd (Basic) and the bearer-token flow with a real ES256 token service.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Digest, sha256Digest } from '../../../src/core/digest.js';
import { canonicalJson } from '../../../src/core/json.js';
import { artifactManifest, EMPTY_JSON } from '../../../src/registry/manifest.js';
import { createRegistryClient } from '../../../src/registry/remote/client.js';
import { resolveCredentials } from '../../../src/registry/remote/credentials.js';
import type { RegistryClientOptions } from '../../../src/registry/remote/session.js';
import { OCI_MANIFEST } from '../../../src/registry/types.js';
import { rejected } from '../../helpers/errors.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { tempDir } from '../../helpers/tmp.js';

const PASSWORD = 's3cret-pw';

function blobOf(text: string): { digest: Digest; size: number; source: Uint8Array } {
  const bytes = Buffer.from(text);
  return { digest: sha256Digest(bytes), size: bytes.length, source: bytes };
}

/** A fetch that passes everything on and records `METHOD path -> status (auth scheme sent)`. */
function recordingFetch(log: string[]): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(String(input));
    const scheme = new Headers(init?.headers).get('authorization')?.split(' ')[0] ?? '-';
    log.push(`${init?.method ?? 'GET'} ${url.pathname} -> ${res.status} (${scheme})`);
    return res;
  };
}

/** Pushes the empty config, one layer and a manifest tagged v1; returns the manifest digest. */
async function pushArtifact(client: ReturnType<typeof createRegistryClient>, repository: string): Promise<Digest> {
  const layer = blobOf(`layer of ${repository}`);
  await client.putBlob(repository, blobOf(EMPTY_JSON));
  await client.putBlob(repository, layer);
  const manifest = artifactManifest({
    layer: { mediaType: 'text/plain', digest: layer.digest, size: layer.size },
    title: 'a.txt',
  });
  return client.putManifest(repository, 'v1', Buffer.from(canonicalJson(manifest)), OCI_MANIFEST);
}

describe('htpasswd (Basic) registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('answers the Basic challenge once, then sends credentials up front', async () => {
    const log: string[] = [];
    const env = { KILN_REGISTRY_USERNAME: 'alice', KILN_REGISTRY_PASSWORD: PASSWORD };
    const client = createRegistryClient({ registry: registry.host, env, fetch: recordingFetch(log) });
    const digest = await pushArtifact(client, 'team/app');
    expect(await client.resolve('team/app', 'v1')).toBe(digest);
    // distribution answers 401 + `WWW-Authenticate: Basic realm=…` to the anonymous first try.
    expect(log.slice(0, 2)).toEqual([
      `HEAD /v2/team/app/blobs/${sha256Digest(EMPTY_JSON)} -> 401 (-)`,
      `HEAD /v2/team/app/blobs/${sha256Digest(EMPTY_JSON)} -> 404 (Basic)`,
    ]);
    expect(log.slice(2).every((l) => l.endsWith('(Basic)'))).toBe(true);
  });

  it('reads credentials from ~/.docker/config.json auths', async () => {
    const home = tempDir();
    mkdirSync(join(home, '.docker'));
    const auth = Buffer.from(`alice:${PASSWORD}`).toString('base64');
    writeFileSync(
      join(home, '.docker', 'config.json'),
      JSON.stringify({ auths: { [`http://${registry.host}`]: { auth } } }),
    );
    const credentials = resolveCredentials({ registry: registry.host, env: { HOME: home } });
    expect(credentials).toMatchObject({
      kind: 'basic',
      username: 'alice',
      source: `${join(home, '.docker', 'config.json')} auths["http://${registry.host}"].auth`,
    });
    const client = createRegistryClient({ registry: registry.host, env: { HOME: home } });
    expect(await client.hasBlob('team/app', sha256Digest(EMPTY_JSON))).toBe(true);
  });

  it('says which credentials were rejected on a wrong password, without the password', async () => {
    const env = { KILN_REGISTRY_USERNAME: 'alice', KILN_REGISTRY_PASSWORD: 'wrong-password' };
    const client = createRegistryClient({ registry: registry.host, env });
    const err = await rejected(client.getManifest('team/app', 'v1'));
    expect(err.code).toBe('KILN_REGISTRY_AUTH');
    expect(err.message).toBe(
      `registry ${registry.host} rejected user "alice" (credentials from the environment (KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD)) for pull of team/app (manifest v1): 401 Unauthorized — registry says UNAUTHORIZED: authentication required`,
    );
    expect(err.hint).toMatch(
      /^check the credentials in the environment .*docker login 127\.0\.0\.1:\d+.*KILN_REGISTRY_USERNAME and KILN_REGISTRY_PASSWORD/,
    );
    expect(`${err.message} ${err.hint}`).not.toContain('wrong-password');
  });

  it('says that no credentials were found, and where it looked', async () => {
    const home = tempDir();
    const client = createRegistryClient({ registry: registry.host, env: { HOME: home } });
    const err = await rejected(client.putBlob('team/app', blobOf('anonymous push')));
    expect(err.code).toBe('KILN_REGISTRY_AUTH');
    expect(err.message).toBe(
      `registry ${registry.host} requires authentication to push team/app (blob ${sha256Digest('anonymous push')}); no credentials were sent: none found (checked flags, KILN_REGISTRY_USERNAME/KILN_REGISTRY_PASSWORD, ${home}/.docker/config.json) (401 Unauthorized)`,
    );
  });
});

describe('token (Bearer) registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token', identityTokens: { 'refresh-abc': 'alice' } });
  });
  afterAll(async () => {
    await registry?.stop();
  });
  const tokens = () => {
    if (!registry.tokens) throw new Error('no token service');
    return registry.tokens;
  };
  const basic = { kind: 'basic', username: 'alice', password: PASSWORD, source: 'test' } as const;

  it('fetches one token per scope and reuses it for every request of that scope', async () => {
    const log: string[] = [];
    const from = tokens().requests.length;
    const client = createRegistryClient({ registry: registry.host, credentials: basic, fetch: recordingFetch(log) });
    const digest = await pushArtifact(client, 'tok/app');
    expect((await client.getManifest('tok/app', 'v1'))?.digest).toBe(digest);
    expect(await client.getBlob('tok/app', sha256Digest(EMPTY_JSON))).toEqual(Buffer.from(EMPTY_JSON));
    expect(await client.listTags('tok/app')).toEqual(['v1']);
    // Pushing (3 uploads + 1 manifest) needed pull,push; reading needed pull: two tokens in all.
    expect(tokens().requests.slice(from)).toEqual([
      { user: 'alice', scopes: ['repository:tok/app:pull,push'] },
      { user: 'alice', scopes: ['repository:tok/app:pull'] },
    ]);
    // Only the very first request went without a token (that is how the realm is learnt).
    expect(log.filter((l) => l.includes('(-)'))).toEqual([
      `HEAD /v2/tok/app/blobs/${sha256Digest(EMPTY_JSON)} -> 401 (-)`,
    ]);
    expect(log.filter((l) => l.includes('/v2/') && !l.includes('(-)')).every((l) => l.endsWith('(Bearer)'))).toBe(true);
  });

  it('fetches a fresh token when the registry refuses a cached one, and when the cached one has expired', async () => {
    let now = Date.now();
    const log: string[] = [];
    const client = createRegistryClient({
      registry: registry.host,
      credentials: basic,
      fetch: recordingFetch(log),
      now: () => now,
    });
    await pushArtifact(client, 'tok/refresh');
    const from = tokens().requests.length;
    tokens().expireNext(); // The next token is dead on arrival: the registry answers 401 and the client must refresh.
    expect(await client.resolve('tok/refresh', 'v1')).toMatch(/^sha256:/);
    expect(tokens().requests.slice(from)).toHaveLength(2);
    expect(log.slice(-4)).toEqual([
      'GET /token -> 200 (Basic)',
      'HEAD /v2/tok/refresh/manifests/v1 -> 401 (Bearer)',
      'GET /token -> 200 (Basic)',
      'HEAD /v2/tok/refresh/manifests/v1 -> 200 (Bearer)',
    ]);

    now += 400_000; // Past the 300 s `expires_in`: renewed before use, no 401 round trip.
    const before = log.length;
    expect(await client.resolve('tok/refresh', 'v1')).toMatch(/^sha256:/);
    expect(tokens().requests.slice(from)).toHaveLength(3);
    expect(log.slice(before).filter((l) => l.includes('-> 401'))).toEqual([]);
  });

  it('asks for pull on the source repository when mounting across repositories', async () => {
    const client = createRegistryClient({ registry: registry.host, credentials: basic });
    const blob = blobOf('shared layer');
    await client.putBlob('tok/src', blob);
    const from = tokens().requests.length;
    await client.putBlob('tok/dst', blob, { mountFrom: 'tok/src' });
    expect(await client.hasBlob('tok/dst', blob.digest)).toBe(true);
    expect(tokens().requests[from]?.scopes).toEqual(['repository:tok/dst:pull,push', 'repository:tok/src:pull']);
  });

  it('uses a docker identity token through the OAuth2 refresh-token grant', async () => {
    const opts: RegistryClientOptions = {
      registry: registry.host,
      credentials: { kind: 'token', token: 'refresh-abc', source: 'config identitytoken' },
    };
    const client = createRegistryClient(opts);
    await pushArtifact(client, 'tok/oauth');
    expect(tokens().requests.at(-1)).toEqual({ user: 'alice', scopes: ['repository:tok/oauth:pull,push'] });
  });

  it('reports a password the token service rejects, naming the token service and the source', async () => {
    const client = createRegistryClient({
      registry: registry.host,
      credentials: { ...basic, password: 'nope', source: 'the --username/--password flags' },
    });
    const err = await rejected(client.getManifest('tok/app', 'v1'));
    expect(err.code).toBe('KILN_REGISTRY_AUTH');
    expect(err.message).toBe(
      `registry ${registry.host} (token service ${tokens().realm}) rejected user "alice" (credentials from the --username/--password flags) for pull of tok/app (manifest v1): 401 Unauthorized — registry says UNAUTHORIZED: invalid username or password`,
    );
    expect(err.message).not.toContain('nope');
  });

  it('reports anonymous access that the token service does not grant', async () => {
    const client = createRegistryClient({ registry: registry.host, env: { HOME: tempDir() } });
    const err = await rejected(client.getManifest('tok/app', 'v1'));
    expect(err.code).toBe('KILN_REGISTRY_AUTH');
    expect(err.message).toMatch(
      /^registry 127\.0\.0\.1:\d+ requires authentication to pull tok\/app \(manifest v1\); no credentials were sent: none found/,
    );
    expect(err.message).toContain('registry says UNAUTHORIZED: authentication required');
  });
});
