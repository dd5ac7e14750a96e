#!/usr/bin/env node
// Generates a synthetic npm-workspaces monorepo for the benchmark: node bench/gen-monorepo.mjs N DIR
// N packages in layers (each depends on 1–3 packages of lower layers, all on p0 in the end), a `build` script per
// package writing 20 files, turbo.json, kiln.yaml (one step per package) and kiln.workspaces.yaml (planned syntax),
// a package-lock.json made by the real npm, and a git repository with one commit. Deterministic for a given N.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'package-build.mjs');
const MODULES = 19; // + index.js = 20 source files and 20 output files per package

/** Layers of package indexes: [0], then layers of about √N packages. */
export function layout(n) {
  const width = Math.max(2, Math.round(Math.sqrt(n)));
  const layers = [[0]];
  for (let i = 1; i < n; i += width) layers.push(Array.from({ length: Math.min(width, n - i) }, (_, k) => i + k));
  return layers;
}

/** For each package index, the indexes it depends on: one of the previous layer, up to two more of any lower one. */
export function dependencies(layers, random) {
  const deps = [[]];
  layers.forEach((layer, l) => {
    if (l === 0) return;
    const lower = layers.slice(0, l).flat();
    const previous = layers[l - 1];
    for (const i of layer) {
      const chosen = new Set([previous[Math.floor(random() * previous.length)]]);
      const extra = Math.floor(random() * 3);
      for (let k = 0; k < extra && chosen.size < lower.length; k++) {
        chosen.add(lower[Math.floor(random() * lower.length)]);
      }
      deps[i] = [...chosen].sort((a, b) => a - b);
    }
  });
  return deps;
}

function mulberry32(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function moduleSource(p, m, random) {
  const table = Array.from({ length: 24 }, () => Math.floor(random() * 100000));
  const fns = Array.from(
    { length: 6 },
    (_, f) => `/**
 * Combines a value with table ${m} (function ${f} of module ${m} in package p${p}).
 */
export function combine${m}_${f}(value, weight = ${f + 1}) {
  // fold the table into an accumulator
  let accumulator = ${Math.floor(random() * 1000)};
  for (const entry of TABLE_${m}) accumulator = (accumulator * 31 + entry * weight + value) % 1000003;
  return accumulator ^ ${Math.floor(random() * 65536)};
}
`,
  );
  const imports = m > 0 ? `import { combine${m - 1}_0 } from './m${String(m - 1).padStart(2, '0')}.js';\n` : '';
  const chain = m > 0 ? `export const chained${m} = (v) => combine${m - 1}_0(combine${m}_0(v));\n` : '';
  return `// Module ${m} of package p${p} (generated).\n${imports}export const TABLE_${m} = ${JSON.stringify(table)};\n\n${fns.join('\n')}${chain}`;
}

function indexSource(p, deps) {
  const reexports = Array.from({ length: MODULES }, (_, m) => `export * from './m${String(m).padStart(2, '0')}.js';`);
  const imports = deps.map((d) => `import { REVISION as revision_p${d} } from 'p${d}';`);
  const sum = ['REVISION_BASE', ...deps.map((d) => `revision_p${d}`)].join(' + ');
  return `// Entry point of p${p}.\n${imports.join('\n')}\n${reexports.join('\n')}\n\nexport const REVISION_BASE = 0;\nexport const REVISION = ${sum};\n`;
}

function write(path, text) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

function kilnYaml(n, deps, leaf) {
  const steps = deps.map((d, i) => {
    const dir = `packages/p${i}`;
    return [
      `  p${i}:`,
      `    run: cd ${dir} && node build.mjs`,
      `    needs: [${d.map((x) => `p${x}`).join(', ')}]`,
      `    inputs: [${dir}/src/**, ${dir}/package.json, ${dir}/build.mjs]`,
      `    outputs: [${dir}/dist]`,
    ].join('\n');
  });
  return `# One step per package, written out (generated); kiln.workspaces.yaml says the same in a few lines.
name: bench-mono-${n}
steps:
${steps.join('\n')}
artifacts:
  - name: leaf
    from: p${leaf}
    path: packages/p${leaf}/dist
    format: tgz
`;
}

function kilnWorkspacesYaml(n, leaf) {
  return `# The same build as kiln.yaml, with the planned per-package syntax (see bench/README.md).
name: bench-mono-${n}
steps:
  build:
    perPackage: true # one step per workspace package (npm, yarn or pnpm), named build:<package>
    script: build # the package.json script, run directly (no npm process); packages without it get no step
    inputs: [src/**, package.json, build.mjs] # relative to each package
    outputs: [dist]
artifacts:
  - name: leaf
    from: build:p${leaf}
    path: packages/p${leaf}/dist
    format: tgz
`;
}

/** Writes the whole monorepo into `dir` (which must be empty or absent) and commits it. */
export function generate(n, dir) {
  if (!Number.isInteger(n) || n < 2) throw new Error(`N must be an integer ≥ 2, got ${n}`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);
  const random = mulberry32(n);
  const layers = layout(n);
  const deps = dependencies(layers, random);
  const leaf = n - 1; // in the top layer: nothing depends on it
  for (let p = 0; p < n; p++) {
    const pkgDir = join(dir, 'packages', `p${p}`);
    const dependencies = Object.fromEntries(deps[p].map((d) => [`p${d}`, '1.0.0']));
    const manifest = { name: `p${p}`, version: '1.0.0', private: true, type: 'module', main: 'dist/index.js' };
    write(
      join(pkgDir, 'package.json'),
      `${JSON.stringify({ ...manifest, scripts: { build: 'node build.mjs' }, dependencies }, null, 2)}\n`,
    );
    copyFileSync(BUILD_SCRIPT, join(pkgDir, 'build.mjs'));
    for (let m = 0; m < MODULES; m++) {
      write(join(pkgDir, 'src', `m${String(m).padStart(2, '0')}.js`), moduleSource(p, m, random));
    }
    write(join(pkgDir, 'src', 'index.js'), indexSource(p, deps[p]));
  }
  const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();
  const root = {
    name: `bench-mono-${n}`,
    private: true,
    packageManager: `npm@${npmVersion}`,
    workspaces: ['packages/*'],
  };
  write(join(dir, 'package.json'), `${JSON.stringify(root, null, 2)}\n`);
  write(join(dir, '.gitignore'), 'node_modules/\ndist/\n.turbo/\nkiln-out/\n');
  const turbo = {
    $schema: 'https://turborepo.com/schema.json',
    tasks: { build: { dependsOn: ['^build'], outputs: ['dist/**'] } },
  };
  write(join(dir, 'turbo.json'), `${JSON.stringify(turbo, null, 2)}\n`);
  write(join(dir, 'kiln.yaml'), kilnYaml(n, deps, leaf));
  write(join(dir, 'kiln.workspaces.yaml'), kilnWorkspacesYaml(n, leaf));
  // No external dependencies: npm only links the workspaces, nothing is fetched.
  const quiet = { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] };
  execFileSync(
    'npm',
    ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--offline', '--no-update-notifier'],
    quiet,
  );
  const git = (...args) => execFileSync('git', args, { ...quiet, env: GIT_ENV });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', `synthetic monorepo with ${n} packages`);
  return { layers: layers.length, leaf: `p${leaf}`, root: 'p0' };
}

/** git isolated from the user's configuration, with a fixed identity and dates (reproducible commits). */
export const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [n, dir] = process.argv.slice(2);
  if (!n || !dir) {
    process.stderr.write('usage: node gen-monorepo.mjs N DIR\n');
    process.exit(2);
  }
  const info = generate(Number(n), dir);
  process.stdout.write(`${dir}: ${n} packages in ${info.layers} layers; leaf ${info.leaf}, root ${info.root}\n`);
}
