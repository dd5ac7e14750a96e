// A package's build in the synthetic monorepo (copied there as build.mjs): "compiles" src/*.js into dist/*.js
// (strip comments, tokenize, shorten names) and stamps the digests of the dependencies' dist/index.js into
// dist/index.js, so a change in a dependency's output changes this package's output too. Deterministic.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const KEYWORDS = new Set(['const', 'return', 'export', 'function', 'import', 'from', 'default', 'weight']);
const sha = (text) => createHash('sha256').update(text).digest('hex');

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const upstream = Object.keys(pkg.dependencies ?? {})
  .sort()
  .map((dep) => `${dep}@${sha(readFileSync(`../${dep}/dist/index.js`, 'utf8')).slice(0, 16)}`);

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
for (const file of readdirSync('src').sort()) {
  const source = readFileSync(`src/${file}`, 'utf8');
  const stripped = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const tokens = stripped.match(/[A-Za-z_$][\w$]*|\d+|'[^']*'|\S/g) ?? [];
  const names = new Map();
  for (const token of tokens) {
    if (/^[a-z]\w{3,}$/.test(token) && !KEYWORDS.has(token) && !names.has(token)) {
      names.set(token, `_${names.size.toString(36)}`);
    }
  }
  const code = tokens.map((token) => names.get(token) ?? token).join(' ');
  const header = `/* ${pkg.name}@${pkg.version} ${file} ${sha(source).slice(0, 16)} */\n`;
  const stamp = file === 'index.js' ? `export const UPSTREAM = ${JSON.stringify(upstream)};\n` : '';
  writeFileSync(`dist/${file}`, `${header}${stamp}${code}\n`);
}
