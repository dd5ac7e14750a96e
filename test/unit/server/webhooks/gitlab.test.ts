// GitLab push and tag push hooks: the X-Gitlab-Token is the configured token or the delivery is a 401 before the body
// is parsed; the delivery id is Idempotency-Key when sent, else X-Gitlab-Event-UUID; deletions trigger nothing.
import { describe, expect, it } from 'vitest';
import { receiveGitlabWebhook } from '../../../../src/server/webhooks/gitlab.js';
import type { WebhookRequest } from '../../../../src/server/webhooks/request.js';
import { failure, payload } from './fixtures.js';

const TOKEN = 'glwt-4b1d7e0c9a3f52e8d6b0';
const UUID = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';

function delivery(body: Buffer, headers: Record<string, string | undefined> = {}, maxBodyBytes = 1 << 20) {
  const request: WebhookRequest = {
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitLab/18.6.1',
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-event-uuid': UUID,
      'x-gitlab-webhook-uuid': '9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b',
      'x-gitlab-instance': 'https://gitlab.example.com',
      'x-gitlab-token': TOKEN,
      ...headers,
    },
    rawBody: body,
    secret: TOKEN,
    maxBodyBytes,
  };
  return request;
}

describe('receiveGitlabWebhook', () => {
  it('turns a push hook into a trigger of the project clone URL, ref and checkout_sha', () => {
    expect(receiveGitlabWebhook(delivery(payload('gitlab-push.json')))).toEqual({
      kind: 'trigger',
      source: 'gitlab',
      delivery: UUID,
      repository: 'https://gitlab.example.com/acme/kiln-demo.git',
      ref: 'refs/heads/main',
      commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      event: 'Push Hook',
    });
  });

  it('triggers a tag push hook at checkout_sha (the commit), not "after" (the tag object)', () => {
    const body = payload('gitlab-tag-push.json');
    expect(receiveGitlabWebhook(delivery(body, { 'x-gitlab-event': 'Tag Push Hook' }))).toMatchObject({
      kind: 'trigger',
      ref: 'refs/tags/v1.4.0',
      commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      event: 'Tag Push Hook',
    });
  });

  it('uses Idempotency-Key as the delivery id when GitLab sends one', () => {
    const result = receiveGitlabWebhook(
      delivery(payload('gitlab-push.json'), { 'idempotency-key': 'f5a6b7c8-d9e0-4f1a-8b2c-3d4e5f6a7b8c' }),
    );
    expect(result.delivery).toBe('f5a6b7c8-d9e0-4f1a-8b2c-3d4e5f6a7b8c');
  });

  it('acknowledges a deleted branch and other events without a trigger', () => {
    expect(receiveGitlabWebhook(delivery(payload('gitlab-branch-delete.json')))).toEqual({
      kind: 'ignored',
      source: 'gitlab',
      delivery: UUID,
      reason: 'refs/heads/feature/old was deleted',
    });
    const mr = Buffer.from('{"object_kind":"merge_request"}');
    expect(receiveGitlabWebhook(delivery(mr, { 'x-gitlab-event': 'Merge Request Hook' }))).toMatchObject({
      kind: 'ignored',
      reason: 'event Merge Request Hook (only Push Hook and Tag Push Hook are built)',
    });
  });

  describe('refuses with 401, naming no token', () => {
    const body = payload('gitlab-push.json');
    const refused = (request: WebhookRequest) =>
      failure(() => receiveGitlabWebhook(request), 'KILN_UNAUTHENTICATED', 401, [TOKEN]);

    it('a missing, empty or wrong token', () => {
      expect(refused(delivery(body, { 'x-gitlab-token': undefined })).message).toContain(
        'X-Gitlab-Token header is missing',
      );
      refused(delivery(body, { 'x-gitlab-token': '' }));
      refused(delivery(body, { 'x-gitlab-token': 'glwt-0000000000000000000' }));
    });

    it('a token of the same length differing only in its last character, a prefix, and one with more after it', () => {
      refused(delivery(body, { 'x-gitlab-token': `${TOKEN.slice(0, -1)}1` }));
      refused(delivery(body, { 'x-gitlab-token': TOKEN.slice(0, -1) }));
      refused(delivery(body, { 'x-gitlab-token': `${TOKEN} ` }));
      refused(delivery(body, { 'x-gitlab-token': TOKEN.toUpperCase() }));
    });
  });

  it('answers 413 over the limit before the token is looked at, and 400 for malformed JSON with a good token', () => {
    const body = payload('gitlab-push.json');
    failure(
      () => receiveGitlabWebhook(delivery(body, { 'x-gitlab-token': undefined }, 1024)),
      'KILN_PAYLOAD_TOO_LARGE',
      413,
      [TOKEN],
    );
    failure(() => receiveGitlabWebhook(delivery(Buffer.from('object_kind=push'))), 'KILN_BAD_REQUEST', 400, [TOKEN]);
    failure(
      () => receiveGitlabWebhook(delivery(Buffer.from('object_kind=push'), { 'x-gitlab-token': 'nope' })),
      'KILN_UNAUTHENTICATED',
      401,
      [TOKEN],
    );
  });

  it('answers 400 for a payload that does not fit its event, or no delivery id', () => {
    const push = JSON.parse(payload('gitlab-push.json').toString('utf8'));
    const bad = (value: unknown, headers: Record<string, string | undefined> = {}) =>
      failure(
        () => receiveGitlabWebhook(delivery(Buffer.from(JSON.stringify(value)), headers)),
        'KILN_BAD_REQUEST',
        400,
        [TOKEN],
      ).message;
    expect(bad(push, { 'x-gitlab-event': 'Tag Push Hook' })).toContain('"object_kind" is "push", expected "tag_push"');
    expect(bad({ ...push, ref: 'refs/tags/v1' })).toContain('is not under refs/heads/');
    expect(bad({ ...push, checkout_sha: 'da15608' })).toContain('"checkout_sha" is not a 40-hex commit id');
    expect(bad({ ...push, project: {} })).toContain('"project.git_http_url" is missing');
    expect(bad(push, { 'x-gitlab-event-uuid': undefined })).toContain('the X-Gitlab-Event-UUID header is missing');
    expect(bad(push, { 'x-gitlab-event': undefined })).toContain('X-Gitlab-Event header is missing');
  });
});
