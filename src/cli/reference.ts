// The reference pages of docs/reference/, generated from the code: each command's own --help, the kiln.yaml schema the
// loader validates with, and the table of error codes. `npm run gen:docs` writes them; a test fails when they are stale.
import { Writable } from 'node:stream';
import { createKiln, embeddedPorts } from '../app/index.js';
import { ERROR_CODES, EXIT_BUG, type KilnErrorCode } from '../core/errors.js';
import type { CliContext } from './context.js';
import { COMMAND_SUMMARIES, main } from './main.js';

const GENERATED =
  'Generated from the code by `npm run gen:docs`; a test fails when this page is stale. Do not edit it.';

/** Every reference page: path under docs/reference/ → Markdown. */
export async function referencePages(): Promise<Record<string, string>> {
  return {
    'cli.md': await cliPage(),
    'kiln-yaml.md': await kilnYamlPage(),
    'errors.md': errorsPage(),
  };
}

async function cliPage(): Promise<string> {
  const lines = ['# CLI reference', '', GENERATED, '', '```text', await output(['--help']), '```', ''];
  for (const { name } of COMMAND_SUMMARIES) {
    lines.push(`## kiln ${name}`, '', '```text', await output([name, '--help']), '```', '');
  }
  lines.push('Exit statuses and error codes: [errors.md](errors.md).', '');
  return lines.join('\n');
}

/** What `kiln ARGS` prints on stdout, run in process with nothing of this machine in it; anything else is an error. */
async function output(argv: string[]): Promise<string> {
  const out = collector();
  const err = collector();
  const ctx: CliContext = {
    cwd: '/',
    env: {},
    stdout: out.stream,
    stderr: err.stream,
    kilnHome: '/nonexistent/kiln-home',
    version: '0.0.0',
    now: () => new Date(0),
  };
  const status = await main(argv, ctx);
  if (status !== 0 || err.text() !== '') {
    throw new Error(`kiln ${argv.join(' ')} exited ${status}: ${err.text()}`);
  }
  return out.text().trimEnd();
}

function collector() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

type Schema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  anyOf?: Schema[];
  pattern?: string;
};

async function kilnYamlPage(): Promise<string> {
  const kiln = createKiln(embeddedPorts({ home: '/nonexistent/kiln-home', env: {}, cwd: '/', version: '0.0.0' }));
  const schema = (await kiln.configSchema()) as Schema;
  const rows: string[] = [];
  walk(schema, '', true, rows);
  return [
    '# kiln.yaml reference',
    '',
    GENERATED,
    '',
    'Every key kiln.yaml may hold, from the schema Kiln validates it with (also `kiln config schema`, and',
    '`schema/kiln.schema.json` for editors). `<name>` stands for a key you choose; `[]` for each item of a list.',
    'How to write one for a project: [the guide](../guide/kiln-yaml.md).',
    '',
    '| key | type | required | default | description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function walk(schema: Schema, path: string, required: boolean, rows: string[]): void {
  if (path !== '') {
    const def = schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``;
    rows.push(`| \`${path}\` | ${typeOf(schema)} | ${required ? 'yes' : ''} | ${def} | ${cell(schema.description)} |`);
  }
  const object = schema.anyOf?.find((s) => s.properties) ?? schema;
  for (const [key, child] of Object.entries(object.properties ?? {})) {
    walk(child, path ? `${path}.${key}` : key, object.required?.includes(key) ?? false, rows);
  }
  if (typeof object.additionalProperties === 'object' && object.additionalProperties.properties) {
    walk({ ...object.additionalProperties, description: undefined }, `${path}.<name>`, false, rows);
  }
  if (object.items?.properties) walk({ ...object.items, description: undefined }, `${path}[]`, false, rows);
}

function typeOf(schema: Schema): string {
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (schema.anyOf) return [...new Set(schema.anyOf.map(typeOf))].join(' or ');
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'any');
  if (type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'any'}`;
  if (type === 'object' && typeof schema.additionalProperties === 'object' && !schema.properties) {
    return `map of ${typeOf(schema.additionalProperties)}`;
  }
  return type;
}

function errorsPage(): string {
  const codes = Object.entries(ERROR_CODES) as [KilnErrorCode, (typeof ERROR_CODES)[KilnErrorCode]][];
  const byExit = new Map<number, KilnErrorCode[]>();
  for (const [code, spec] of codes) byExit.set(spec.exit, [...(byExit.get(spec.exit) ?? []), code]);
  const statuses = [...byExit.keys()].sort((a, b) => a - b);
  return [
    '# Error codes and exit statuses',
    '',
    GENERATED,
    '',
    'Every failure Kiln can explain is printed with its stable code, what went wrong and a hint:',
    '',
    '```text',
    'kiln: error KILN_CONFIG_INVALID: /src/app/kiln.yaml has 1 problem(s):',
    '  /src/app/kiln.yaml:8:5: steps.compile.output: unknown key "output" (did you mean "outputs"?)',
    '```',
    '',
    'With `--json`, stdout carries it too: `{"error": {"code": "KILN_…", "message": "…", "hint": "…", "exitStatus": 2}}`.',
    `Anything else is a bug: Kiln prints the stack trace and exits ${EXIT_BUG} (with \`--json\`, code \`KILN_BUG\`).`,
    'With `KILN_LOG=json`, stderr carries the error as one JSON line: `{"kind": "error", "code": …, "at": …}`.',
    '',
    '## Exit statuses',
    '',
    '| status | meaning | codes |',
    '| --- | --- | --- |',
    '| 0 | success | |',
    ...statuses.map(
      (s) => `| ${s} | ${EXIT_MEANING[s] ?? ''} | ${(byExit.get(s) ?? []).map((c) => `\`${c}\``).join(', ')} |`,
    ),
    `| ${EXIT_BUG} | internal error: a bug (the stack trace is printed) | |`,
    '',
    'Some commands also end with 1 or 3 on their own, without an error: `kiln verify` exits 3 when a check fails,',
    '`kiln scan` 1 when a recorded artifact is affected, `kiln db import` 1 when records were rejected.',
    '',
    '## Codes',
    '',
    '| code | exit | HTTP | meaning | usual fix |',
    '| --- | --- | --- | --- | --- |',
    ...codes.map(
      ([code, spec]) => `| \`${code}\` | ${spec.exit} | ${spec.http} | ${cell(spec.meaning)} | ${cell(spec.fix)} |`,
    ),
    '',
  ].join('\n');
}

/** What each exit status says, whatever the command. */
const EXIT_MEANING: Readonly<Record<number, string>> = {
  1: 'the build failed (a step, a missing output, packaging, the SBOM)',
  2: 'usage or configuration error, dirty tree, missing key or object',
  3: 'verification failed (an artifact, its evidence, or a promotion refused because of them)',
  4: 'environment problem (store, OCI layout, disk, sandbox, registry, cache)',
  5: 'the policy blocked a build (nothing was published) or a promotion',
  [EXIT_BUG]: 'internal error: a bug (the stack trace is printed)',
  130: 'interrupted (Ctrl-C, SIGTERM)',
};

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
