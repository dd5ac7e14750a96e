// The lines `kiln serve` and `kiln worker` write about themselves: text or one JSON object per line, and every secret
// the process knows replaced, in the forms it travels in (as is, base64, URL-encoded).
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { logFormatOf, serviceLog } from '../../../src/cli/service-log.js';
import { logLine, Redactor } from '../../../src/core/log.js';

const AT = new Date('2026-12-08T10:00:00.000Z');

describe('log lines', () => {
  it('writes text for people and one JSON object per line for machines, with only the fields given', () => {
    expect(logLine('text', 'kiln-serve', AT, 'listening', { jobId: 'j1' })).toBe('kiln: listening');
    expect(
      JSON.parse(
        logLine('json', 'kiln-worker', AT, 'step compile started', {
          jobId: 'j1',
          step: 'compile',
          workerId: 'w1',
          attempt: 2,
        }),
      ),
    ).toEqual({
      time: '2026-12-08T10:00:00.000Z',
      level: 'info',
      service: 'kiln-worker',
      msg: 'step compile started',
      jobId: 'j1',
      step: 'compile',
      workerId: 'w1',
      attempt: 2,
    });
    expect(JSON.parse(logLine('json', 's', AT, 'x', { level: 'error' })).level).toBe('error');
    expect(() => logFormatOf('yaml', 'serve')).toThrow(/--log-format must be text or json, got "yaml"/);
  });

  it('redacts every secret it was told, base64 and URL-encoded too, the longest first, and leaves short words alone', () => {
    const r = new Redactor();
    r.add('s3cr3t-value');
    r.add('s3cr3t-value-longer');
    r.add('a b/c+d=e&f');
    r.add('abc'); // too short to redact without mangling ordinary text
    expect(r.redact('token s3cr3t-value-longer and s3cr3t-value')).toBe('token [redacted] and [redacted]');
    expect(r.redact(`Basic ${Buffer.from('s3cr3t-value').toString('base64')}`)).toBe('Basic [redacted]');
    expect(r.redact(`https://h/?p=${encodeURIComponent('a b/c+d=e&f')}`)).toBe('https://h/?p=[redacted]');
    expect(r.redact('abc def')).toBe('abc def');
  });

  it('redacts credentials of the environment and every secret read through its sources from each line', async () => {
    const stderr = new PassThrough();
    let written = '';
    stderr.on('data', (c) => {
      written += c;
    });
    const ctx = {
      cwd: '/',
      env: { KILN_REGISTRY_PASSWORD: 'registry-pa55word', WEBHOOK: 'webhook-s3cret' },
      stdout: new PassThrough(),
      stderr,
      kilnHome: '/k',
      version: '0',
      now: () => AT,
    };
    const { log, secrets } = serviceLog(ctx, 'json', 'kiln-serve');
    log('push to registry with registry-pa55word failed');
    log('webhook secret webhook-s3cret seen'); // not read as a secret yet: not known
    secrets.onSecret('webhook-s3cret');
    log('webhook secret webhook-s3cret seen', { level: 'warn' });
    const lines = written
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual([
      'push to registry with [redacted] failed',
      'webhook secret webhook-s3cret seen',
      'webhook secret [redacted] seen',
    ]);
    expect(lines[2]).toMatchObject({ level: 'warn', service: 'kiln-serve' });
  });
});
