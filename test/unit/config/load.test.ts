import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGraph, kilnJsonSchema, loadConfigFile, parseConfig, topoOrder } from '../../../src/config/index.js';
import { KilnError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/tmp.js';

function problemsOf(text: string): { path: string; line: number; column: number; message: string }[] {
  try {
    parseConfig(text, 'kiln.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('KILN_CONFIG_INVALID');
    return (err as KilnError).details?.problems as never;
  }
  throw new Error('expected the config to be rejected');
}

const GOOD = `name: demo
steps:
  deps:
    run: npm ci
    network: true
  build:
    run: make
    needs: [deps]
    outputs: [dist]
artifacts:
  - name: demo
    from: build
    path: dist
`;

describe('kiln.yaml loading', () => {
  it('applies defaults and orders steps after what they need', () => {
    const config = parseConfig(GOOD, 'kiln.yaml');
    expect(config.output).toBe('kiln-out');
    expect(config.artifacts[0]?.format).toBe('tgz');
    expect(config.steps.build?.env).toEqual({});
    expect(topoOrder(config)).toEqual(['deps', 'build']);
    expect(Object.isFrozen(config.steps)).toBe(true);
  });

  it('reports bad YAML with its line and column', () => {
    expect(problemsOf('name: demo\nsteps: a: b\n')).toEqual([
      { path: '', line: 2, column: 8, message: 'Nested mappings are not allowed in compact mappings' },
    ]);
    expect(problemsOf('name: demo\nname: x\n')[0]).toMatchObject({
      line: 2,
      column: 1,
      message: 'Map keys must be unique',
    });
  });

  it('rejects unknown keys with their location and a did-you-mean', () => {
    const problems = problemsOf(
      GOOD.replace('    needs: [deps]', '    need: [deps]').replace('name: demo\n', 'nme: demo\n'),
    );
    const step = problems.find((p) => p.path === 'steps.build.need');
    expect(step).toMatchObject({ line: 8, column: 5 });
    expect(step?.message).toContain('did you mean "needs"');
    const root = problems.find((p) => p.path === 'nme');
    expect(root).toMatchObject({ line: 1, column: 1 });
    expect(root?.message).toContain('did you mean "name"');
    expect(problems.find((p) => p.path === 'name')?.message).toMatch(/expected string/);
  });

  it('reports every problem at once, each with its dot-path', () => {
    const text = GOOD.replace('run: make', 'run: 42').replace('format', 'x').replace('path: dist', 'path: /abs');
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['steps.build.run', 'artifacts[0].path']));
    expect(problems.find((p) => p.path === 'artifacts[0].path')).toMatchObject({ line: 13 });
  });

  it('rejects unknown needs with the step list', () => {
    const problems = problemsOf(GOOD.replace('needs: [deps]', 'needs: [dep]'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'steps.build.needs[0]', line: 8, column: 13 });
    expect(problems[0]?.message).toContain('did you mean "deps"');
  });

  it('rejects a cycle and names it', () => {
    const problems = problemsOf(GOOD.replace('    network: true', '    network: true\n    needs: [build]'));
    const cycle = problems.find((p) => p.message.startsWith('dependency cycle'));
    expect(cycle?.message).toMatch(/build → deps → build|deps → build → deps/);
    expect(cycle?.line).toBeGreaterThan(1);
  });

  it('rejects an artifact from an unknown step', () => {
    const problems = problemsOf(GOOD.replace('from: build', 'from: bild'));
    expect(problems[0]).toMatchObject({ path: 'artifacts[0].from', line: 12 });
  });

  it('rejects a NUL in an env value at load, with its path (a process cannot be given one)', () => {
    const problems = problemsOf(GOOD.replace('    run: make', '    run: make\n    env: { GREETING: "a\\0b" }'));
    expect(problems).toEqual([expect.objectContaining({ path: 'steps.build.env.GREETING', line: 8 })]);
    expect(problems[0]?.message).toContain('NUL');
  });

  it('takes retries from 0 to 10 (default 0), and reports any other value with its line', () => {
    expect(parseConfig(GOOD, 'kiln.yaml').steps.build?.retries).toBe(0);
    const three = parseConfig(GOOD.replace('    run: make', '    run: make\n    retries: 3'), 'kiln.yaml');
    expect(three.steps.build?.retries).toBe(3);
    for (const [value, message] of [
      ['11', /<=10/],
      ['-1', />=0/],
      ['1.5', /expected int/],
      ['"2"', /expected number/],
      ['true', /expected number/],
    ] as const) {
      const problems = problemsOf(GOOD.replace('    run: make', `    run: make\n    retries: ${value}`));
      expect(problems, value).toEqual([expect.objectContaining({ path: 'steps.build.retries', line: 8, column: 14 })]);
      expect(problems[0]?.message, value).toMatch(message);
    }
    expect(() => parseConfig(GOOD.replace('    run: make', '    run: make\n    retries: 11'), 'kiln.yaml')).toThrow(
      /kiln\.yaml:8:14: steps\.build\.retries: /,
    );
  });

  it('keeps the committed editor schema in sync with the code', () => {
    const committed = JSON.parse(readFileSync('schema/kiln.schema.json', 'utf8'));
    expect(committed).toEqual(kilnJsonSchema());
  });
});

describe('artifact paths', () => {
  it('must lie inside an output declared by the step they come from', () => {
    const problems = problemsOf(GOOD.replace('    path: dist', '    path: build/app'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'artifacts[0].path', line: 13, column: 11 });
    expect(problems[0]?.message).toContain('not among the outputs of step "build" (declared: dist)');
    expect(() => parseConfig(GOOD.replace('    path: dist', '    path: dist/app.js'), 'kiln.yaml')).not.toThrow();
  });
});

describe('step paths', () => {
  it('let a perPackage step reach root files with "..", and no other step', () => {
    const perPackage = GOOD.replace(
      '    run: make\n',
      '    perPackage: true\n    run: make\n    inputs: [src, ../../tsconfig.json]\n',
    );
    expect(parseConfig(perPackage, 'kiln.yaml').steps.build?.inputs).toEqual(['src', '../../tsconfig.json']);
    const plain = GOOD.replace('    run: make\n', '    run: make\n    inputs: [src, ../tsconfig.json]\n');
    expect(problemsOf(plain)).toEqual([
      expect.objectContaining({
        path: 'steps.build.inputs[1]',
        line: 8,
        message: expect.stringContaining('perPackage'),
      }),
    ]);
    expect(problemsOf(perPackage.replace('../../tsconfig.json', '/etc/passwd'))[0]).toMatchObject({
      path: 'steps.build.inputs[1]',
    });
  });

  it('refuse globs in outputs at load, where they used to fail the build after the step had run', () => {
    const problems = problemsOf(GOOD.replace('outputs: [dist]', 'outputs: [dist/*.js]'));
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'steps.build.outputs[0]',
        line: 9,
        message: expect.stringContaining('not a glob'),
      }),
    );
  });
});

describe('delivered file names', () => {
  it('must not collide between artifacts', () => {
    const text = `${GOOD}  - name: other
    from: build
    path: dist/demo.tgz
    format: file
`;
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'artifacts[1].path', line: 16 });
    expect(problems[0]?.message).toContain('delivers demo.tgz, as artifacts[0] does');
  });
});

describe('hostile and huge files', () => {
  it('refuses a YAML alias bomb (billion laughs) as a config problem', () => {
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi'] as const) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const problems = problemsOf(`name: bomb\n${levels.join('\n')}\n`);
    expect(problems).toEqual([expect.objectContaining({ line: 1, message: expect.stringContaining('YAML aliases') })]);
    // A few aliases for shared values still work.
    const shared = GOOD.replace('    network: true', '    network: true\n    env: &env { CI: "1" }').replace(
      '    run: make',
      '    run: make\n    env: *env',
    );
    expect(parseConfig(shared, 'kiln.yaml').steps.build?.env).toEqual({ CI: '1' });
    // Many aliases (each resolved by a search among all anchors) are refused before they are resolved.
    const many = Array.from({ length: 5000 }, (_, i) => `k${i}: &a${i} v\nr${i}: *a${i}`).join('\n');
    expect(problemsOf(`name: many\n${many}\n`)).toEqual([
      expect.objectContaining({ line: 203, message: expect.stringContaining('YAML aliases') }),
    ]);
  });

  it('refuses a kiln.yaml over 1 MiB, from text or from a file it does not read', async () => {
    const big = `${GOOD}# ${'x'.repeat(1024 * 1024)}\n`;
    expect(() => parseConfig(big, 'kiln.yaml')).toThrow(/kiln\.yaml is 1\.0 MiB, more than the 1\.0 MiB/);
    const file = join(tempDir(), 'kiln.yaml');
    writeFileSync(file, GOOD);
    truncateSync(file, 8 * 1024 * 1024); // sparse: 8 MiB of NULs after the config
    const err = await loadConfigFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect(err).toMatchObject({ code: 'KILN_CONFIG_INVALID', message: expect.stringContaining('is 8.0 MiB') });
    expect((err as KilnError).hint).toContain('perPackage');
  });

  it('orders and checks a chain of 50,000 steps (no recursion as deep as the graph)', () => {
    const names = Array.from({ length: 50_000 }, (_, i) => `s${i}`);
    const steps = Object.fromEntries(
      names.map((name, i) => [name, { needs: i > 0 ? [`s${i - 1}`] : [], outputs: [] }]),
    );
    expect(topoOrder({ steps, artifacts: [] })).toEqual(names);
    expect(checkGraph({ steps, artifacts: [] })).toEqual([]);
    const cyclic = { ...steps, s0: { needs: ['s49999'], outputs: [] } };
    expect(checkGraph({ steps: cyclic, artifacts: [] })[0]?.message).toMatch(/^dependency cycle: s0 → s49999 → /);
  });

  it('finds a duplicate key far down a large file, with its line', () => {
    const steps = Array.from({ length: 2000 }, (_, i) => `  s${i}: {run: x}`);
    const problems = problemsOf(`name: many\nsteps:\n${steps.join('\n')}\n  s5: {run: y}\n`);
    expect(problems).toEqual([{ path: '', line: 2003, column: 3, message: 'Map keys must be unique' }]);
  });
});
