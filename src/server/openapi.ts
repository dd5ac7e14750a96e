// The OpenAPI 3.1 document of the HTTP API, made from the same zod schemas the answers are typed with.
import { z } from 'zod';
import { API_SCHEMAS } from './schemas.js';

const ref = (name: keyof typeof API_SCHEMAS) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof API_SCHEMAS, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const failures = {
  '401': json('Error', 'no bearer token, or an unknown or revoked one (KILN_UNAUTHENTICATED)'),
  '403': json('Error', "the token's scope is too narrow (KILN_FORBIDDEN)"),
};

/** A webhook endpoint: open (the signature or token is the authentication), one per sender. */
const webhook = (sender: string, verifiedBy: string) => ({
  post: {
    summary: `a ${sender} push delivery: builds the pushed commit of each configured project of its repository (open: ${verifiedBy})`,
    security: [],
    requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
    responses: {
      '200': {
        description: 'verified, nothing queued: an event that builds nothing, or a redelivery of a delivery id',
        content: { 'application/json': { schema: { oneOf: [ref('WebhookIgnored'), ref('WebhookDuplicate')] } } },
      },
      '202': json('WebhookAccepted', 'verified: the builds queued, and the projects that do not build the ref'),
      '400': json('Error', 'a malformed delivery (KILN_BAD_REQUEST)'),
      '401': json('Error', 'no configured secret of the repository verifies it (KILN_UNAUTHENTICATED)'),
      '404': json('Error', 'no configured project has this repository and webhook (KILN_NOT_FOUND)'),
      '413': json('Error', 'the body is over limits.webhookBodyBytes (KILN_PAYLOAD_TOO_LARGE)'),
    },
  },
});

/** The document served at /v1/openapi.json. */
export function openApiDocument(version: string): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(API_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` });
  const components = Object.fromEntries(
    Object.entries(schemas).map(([id, { $id: _id, $schema: _schema, ...schema }]) => [id, schema]),
  );
  return {
    openapi: '3.1.0',
    info: { title: 'Kiln', version, description: 'The Build Stage as a service: builds, their logs and evidence.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/healthz': {
        get: { summary: 'liveness', security: [], responses: { '200': json('Health', 'the server answers') } },
      },
      '/v1/openapi.json': {
        get: { summary: 'this document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
      '/v1/builds': {
        post: {
          summary: 'queue a build of a configured project (scope: trigger)',
          requestBody: { required: true, content: { 'application/json': { schema: ref('SubmitRequest') } } },
          responses: {
            '202': json('Submitted', 'queued (or the active job of the same commit, when deduplicated)'),
            '400': json('Error', 'a bad body (KILN_BAD_REQUEST), or a server started without kiln-server.yaml'),
            '404': json('Error', 'no such project, ref or commit (KILN_NOT_FOUND, KILN_SOURCE_GIT)'),
            ...failures,
          },
        },
        get: {
          summary: 'recorded builds, newest first (scope: read)',
          parameters: [
            { name: 'project', in: 'query', required: false, schema: { type: 'string' } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
          responses: { '200': json('BuildList', 'the builds'), '400': json('Error', 'a bad query'), ...failures },
        },
      },
      '/v1/builds/{id}': {
        get: {
          summary: 'one build with its steps and artifacts (scope: read)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'a job of the queue (the id POST /v1/builds answered), or a recorded build',
              content: { 'application/json': { schema: { oneOf: [ref('Job'), ref('BuildDetail')] } } },
            },
            '404': json('Error', 'no such build (KILN_NOT_FOUND)'),
            ...failures,
          },
        },
      },
      '/v1/builds/{id}/logs': {
        get: {
          summary:
            "a job's log lines as Server-Sent Events, live while it runs: `log` events (id `attempt:seq`), then one `end` event once it ended (scope: read)",
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'step', in: 'query', required: false, schema: { type: 'string' } },
            {
              name: 'Last-Event-ID',
              in: 'header',
              required: false,
              description: 'resume after this line (the id of the last `log` event received)',
              schema: { type: 'string', pattern: '^[0-9]+:[0-9]+$' },
            },
          ],
          responses: {
            '200': {
              description:
                'text/event-stream: `event: log` with a LogLine as data, per line in order; `event: end` with a LogEnd when the job ended and every line was sent; `event: error` with an Error if reading failed',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
              'x-events': { log: ref('LogLine'), end: ref('LogEnd'), error: ref('Error') },
            },
            '400': json('Error', 'a malformed Last-Event-ID or query (KILN_BAD_REQUEST)'),
            '404': json('Error', 'no such job (KILN_NOT_FOUND)'),
            ...failures,
          },
        },
      },
      '/v1/builds/{id}/cancel': {
        post: {
          summary: 'cancel a queued or running job (scope: trigger)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: '`cancelled` is false when the job had already ended' },
            '404': json('Error', 'no such job'),
            ...failures,
          },
        },
      },
      '/metrics': {
        get: {
          summary:
            'the Build Stage SLIs and the farm in Prometheus text format (open from a loopback address, else scope: read)',
          security: [{}, { bearer: [] }],
          responses: {
            '200': { description: 'text/plain; version=0.0.4', content: { 'text/plain': {} } },
            ...failures,
          },
        },
      },
      '/v1/alerts': {
        get: {
          summary: "Kiln's alert log: the alerts Alertmanager sent, newest first (?status=&limit=; scope: read)",
          responses: { '200': json('AlertList', 'the alert log'), ...failures },
        },
        post: {
          summary: "Alertmanager's webhook (version 4): records its alerts in the log (scope: trigger)",
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: {
            '200': json('AlertsReceived', 'recorded'),
            '400': json('Error', 'not an Alertmanager webhook body (KILN_BAD_REQUEST)'),
            ...failures,
          },
        },
      },
      '/runbooks/{name}': {
        get: {
          summary: 'a runbook the alerts link to (Markdown; open)',
          security: [],
          responses: { '200': { description: 'text/markdown' }, '404': json('Error', 'no such runbook') },
        },
      },
      '/v1/queue': {
        get: {
          summary: 'depth and oldest wait per priority class, and builds running: the autoscaling signal (scope: read)',
          responses: { '200': json('Queue', 'the queue now'), ...failures },
        },
      },
      '/v1/workers': {
        get: {
          summary: 'the workers of this server (scope: read)',
          responses: { '200': json('WorkerList', 'each worker and what it builds'), ...failures },
        },
      },
      '/v1/deliveries': {
        get: {
          summary:
            'recent notifications of job state changes (to the notify targets, and GitHub commit statuses), newest first (scope: read)',
          parameters: [
            { name: 'project', in: 'query', schema: { type: 'string' } },
            {
              name: 'status',
              in: 'query',
              schema: { type: 'string', enum: ['pending', 'delivered', 'failed', 'superseded'] },
            },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          ],
          responses: {
            '200': json('DeliveryList', 'each delivery: its status, attempts and last error'),
            '400': json('Error', 'a malformed query (KILN_BAD_REQUEST)'),
            ...failures,
          },
        },
      },
      '/v1/webhooks/github': webhook('GitHub', 'X-Hub-Signature-256, HMAC-SHA256 of the body with the secret'),
      '/v1/webhooks/gitlab': webhook('GitLab', 'X-Gitlab-Token, the configured token'),
      '/v1/webhooks/standard': webhook('Standard Webhooks', 'webhook-signature, v1 HMAC-SHA256 per the specification'),
    },
  };
}
