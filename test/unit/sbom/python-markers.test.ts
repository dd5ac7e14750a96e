import { describe, expect, it } from 'vitest';
import {
  anyMarker,
  evaluateMarker,
  type MarkerEnvironment,
  type MarkerTruth,
  markerTruth,
  parseMarker,
  pythonEnvironment,
} from '../../../src/sbom/lockfiles/python/markers.js';

/** The marker's value in `env`; a marker that does not parse fails the test. */
const truth = (text: string, env: MarkerEnvironment): MarkerTruth =>
  markerTruth(text, env, (problem) => {
    throw new Error(problem);
  });
/** The problem a marker that does not parse is reported with. */
const problem = (text: string): string => {
  const parsed = parseMarker(text);
  if (typeof parsed !== 'string') throw new Error(`"${text}" parsed`);
  return parsed;
};
const LINUX = pythonEnvironment({ os: 'linux', cpu: 'x64', libc: 'glibc' });
const WINDOWS = pythonEnvironment({ os: 'win32', cpu: 'x64' });
const MAC_ARM = pythonEnvironment({ os: 'darwin', cpu: 'arm64' });

describe('pythonEnvironment: what CPython reports where Node runs', () => {
  it('maps Node platform and arch to os.name, sys.platform, platform.system() and platform.machine()', () => {
    // Python docs: os.name is 'posix' or 'nt'; sys.platform 'linux', 'darwin', 'win32'; platform.system() 'Linux',
    // 'Darwin', 'Windows'; platform.machine() is uname -m (x86_64, aarch64, arm64 on Apple silicon) and on Windows
    // PROCESSOR_ARCHITECTURE (AMD64, ARM64).
    expect(LINUX).toEqual({
      os_name: 'posix',
      sys_platform: 'linux',
      platform_system: 'Linux',
      platform_machine: 'x86_64',
      implementation_name: 'cpython',
      platform_python_implementation: 'CPython',
    });
    expect(pythonEnvironment({ os: 'linux', cpu: 'arm64' }).platform_machine).toBe('aarch64');
    expect(MAC_ARM).toMatchObject({ os_name: 'posix', sys_platform: 'darwin', platform_system: 'Darwin' });
    expect(MAC_ARM.platform_machine).toBe('arm64');
    expect(WINDOWS).toMatchObject({ os_name: 'nt', sys_platform: 'win32', platform_system: 'Windows' });
    expect(WINDOWS.platform_machine).toBe('AMD64');
    expect(Object.isFrozen(LINUX)).toBe(true);
  });

  it('leaves what it cannot know unknown: the Python version, other systems and machines, inherited names', () => {
    expect(LINUX.python_version).toBeUndefined();
    expect(truth('python_version < "3.8"', LINUX)).toBe('unknown');
    const bsd = pythonEnvironment({ os: 'freebsd', cpu: 'x64' }); // sys.platform there is 'freebsd14', by release
    expect([bsd.sys_platform, bsd.os_name, bsd.platform_machine]).toEqual([undefined, undefined, undefined]);
    expect(pythonEnvironment({ os: 'linux', cpu: 'arm' }).platform_machine).toBeUndefined(); // armv6l or armv7l
    expect(pythonEnvironment({ os: 'constructor', cpu: 'toString' }).sys_platform).toBeUndefined();
    expect(pythonEnvironment({ os: 'linux', cpu: 'constructor' }).platform_machine).toBeUndefined();
  });
});

describe('markers found in real lockfiles, for linux-x86_64', () => {
  it('drops what is only for other systems and machines', () => {
    // colorama (click's), pywin32, keyring's pywin32-ctypes / SecretStorage, numpy's Apple-silicon wheels.
    expect(truth('sys_platform == "win32"', LINUX)).toBe(false);
    expect(truth('platform_system == "Windows"', LINUX)).toBe(false);
    expect(truth("platform_system == 'Windows'", WINDOWS)).toBe(true);
    expect(truth('sys_platform=="linux"', LINUX)).toBe(true);
    expect(truth('platform_machine == "arm64" and sys_platform == "darwin"', LINUX)).toBe(false);
    expect(truth('platform_machine == "arm64" and sys_platform == "darwin"', MAC_ARM)).toBe(true);
    expect(truth("sys_platform == 'linux' and platform_machine == 'x86_64'", LINUX)).toBe(true);
    expect(truth("platform_python_implementation != 'PyPy'", LINUX)).toBe(true); // cryptography → cffi
    expect(truth("implementation_name == 'pypy'", LINUX)).toBe(false);
    expect(truth('os_name == "nt"', WINDOWS)).toBe(true);
  });

  it('keeps what turns on the Python version as unknown, unless the rest settles it', () => {
    expect(truth('python_version < "3.8"', LINUX)).toBe('unknown');
    expect(truth("python_full_version < '3.11' and sys_platform == 'win32'", LINUX)).toBe(false);
    expect(truth("python_full_version < '3.11' or sys_platform == 'linux'", LINUX)).toBe(true);
    expect(truth("python_full_version < '3.11' and sys_platform == 'linux'", LINUX)).toBe('unknown');
    expect(truth("python_full_version < '3.11' or sys_platform == 'win32'", LINUX)).toBe('unknown');
    expect(truth('extra == "socks"', LINUX)).toBe('unknown'); // no extra known: may be asked for
    // uv's conflict markers name extras and groups through `extra` (uv's own lockfile tests).
    expect(truth("extra == 'group-3-app-dev' or extra != 'extra-3-app-prod'", LINUX)).toBe('unknown');
  });
});

describe('three-valued logic', () => {
  const env = { sys_platform: 'linux' }; // python_version unknown
  const [T, F, U] = ['sys_platform == "linux"', 'sys_platform == "win32"', 'python_version >= "3.9"'];

  it('false settles `and`, true settles `or`; otherwise unknown wins over the rest', () => {
    expect(truth(`${U} and ${F}`, env)).toBe(false);
    expect(truth(`${F} and ${U}`, env)).toBe(false);
    expect(truth(`${U} and ${T}`, env)).toBe('unknown');
    expect(truth(`${U} or ${T}`, env)).toBe(true);
    expect(truth(`${T} or ${U}`, env)).toBe(true);
    expect(truth(`${U} or ${F}`, env)).toBe('unknown');
    expect(truth(`${T} and ${T}`, env)).toBe(true);
    expect(truth(`${F} or ${F}`, env)).toBe(false);
  });

  it('binds `and` tighter than `or`, and parentheses override it', () => {
    expect(truth(`${T} or ${F} and ${F}`, env)).toBe(true);
    expect(truth(`(${T} or ${F}) and ${F}`, env)).toBe(false);
    expect(truth(`${F} and ${U} or ${T}`, env)).toBe(true);
    expect(truth(`${F} and (${U} or ${T})`, env)).toBe(false);
  });

  it('does not see through contradictions: kept as unknown, never wrongly dropped', () => {
    // Always false for a real Python, but each half alone is unknown: Kleene logic keeps what it cannot rule out.
    expect(truth('python_version < "3.9" and python_version >= "3.12"', env)).toBe('unknown');
  });

  it('joins several with anyMarker as `or` does', () => {
    expect(anyMarker([false, 'unknown'])).toBe('unknown');
    expect(anyMarker(['unknown', true])).toBe(true);
    expect(anyMarker([false, false])).toBe(false);
    expect(anyMarker([])).toBe(false);
  });
});

describe('the spec’s examples (packaging.python.org "Dependency specifiers", PEP 496)', () => {
  it('evaluates them', () => {
    // `requests [security,tests] >= 2.8.1, == 2.8.* ; python_version < "2.7"` and `argparse;python_version<"2.7"`.
    expect(truth('python_version < "2.7"', { python_version: '2.6' })).toBe(true);
    expect(truth('python_version<"2.7"', { python_version: '2.7' })).toBe(false);
    const either = "python_version == '2.4' or python_version == '2.5'";
    expect([truth(either, { python_version: '2.5' }), truth(either, { python_version: '2.6' })]).toEqual([true, false]);
    const ssl = "python_version < '2.7.9' or (python_version >= '3.0' and python_version < '3.4')";
    expect(['2.7', '2.7.10', '3.3', '3.4'].map((v) => truth(ssl, { python_version: v }))).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });

  it('refuses what it calls errors: "dog" ~= "fred" and python_version ~= "surprise"', () => {
    expect(problem('"dog" ~= "fred"')).toBe(
      'a comparison needs one variable and one quoted string, not two strings at column 1 of marker ""dog" ~= "fred""',
    );
    expect(problem('python_version ~= "surprise"')).toBe(
      '"~=surprise" is not a version specifier (PEP 440) at column 1 of marker "python_version ~= "surprise""',
    );
  });
});

describe('pypa/packaging tests/test_markers.py', () => {
  const VARIABLES = ['extra', 'implementation_name', 'implementation_version', 'os_name', 'platform_machine'].concat(
    ['platform_release', 'platform_system', 'platform_version', 'python_full_version', 'python_version'],
    ['platform_python_implementation', 'sys_platform'],
  );
  const OPERATORS = ['===', '==', '>=', '<=', '!=', '~=', '>', '<', 'in', 'not in'];
  const VALUES = ['1.0', '5.6a0', 'dog', 'freebsd', 'literally any string can go here', 'things @#4 dsfd ((('];
  const VERSIONED = ['implementation_version', 'platform_release', 'python_full_version', 'python_version'];

  it('test_parses_valid: every variable, operator and value, both ways round', () => {
    // packaging parses all of these and raises UndefinedComparison when evaluating the ones refused here.
    for (const variable of VARIABLES)
      for (const op of OPERATORS)
        for (const value of VALUES) {
          expect(typeof parseMarker(`'${value}' ${op} ${variable}`)).toBe(
            (op === '~=' || op === '===') && !VERSIONED.includes(variable) ? 'string' : 'object',
          );
          const spec = (op === '~=' && /^[0-9]/.test(value)) || (op === '===' && !value.includes(' '));
          expect(typeof parseMarker(`${variable} ${op} '${value}'`)).toBe(
            (op === '~=' || op === '===') && !(VERSIONED.includes(variable) && spec) ? 'string' : 'object',
          );
        }
  });

  it('test_parses_invalid and test_parses_invalid_malformed_quoted_string', () => {
    expect(problem("this_isnt_a_real_variable >= '1.0'")).toMatch(
      /^unexpected "this_isnt_a_real_variable" at column 1/,
    );
    expect(problem('python_version')).toMatch(/^expected an operator .* at column 15/);
    expect(problem('(python_version)')).toMatch(/^expected an operator .* at column 16/);
    expect(problem('python_version >= 1.0 and (python_version)')).toMatch(/^unexpected "1" at column 19/);
    expect(problem('(python_version == "2.7" and os_name == "linux"')).toMatch(/^expected "\)" at column 48/);
    expect(problem('(python_version == "2.7") with random text')).toMatch(/^unexpected "with" at column 27/);
    expect(problem('os_name == "C:\\"')).toMatch(/^a backslash \(escapes are not defined\) at column 12/);
    expect(problem('os_name == "\\x"')).toMatch(/^a backslash/);
  });

  it('test_evaluates', () => {
    expect(truth("os_name == 'foo'", { os_name: 'foo' })).toBe(true);
    expect(truth("os_name == 'foo'", { os_name: 'bar' })).toBe(false);
    expect(truth("'2.7' in python_version", { python_version: '2.7.5' })).toBe(true);
    expect(truth("'2.7' not in python_version", { python_version: '2.7' })).toBe(false);
    const both = { os_name: 'foo', python_version: '2.7.6' };
    expect(truth("os_name == 'foo' and python_version ~= '2.7.0'", both)).toBe(true);
    const grouped = "python_version ~= '2.7.0' and (os_name == 'foo' or os_name == 'bar')";
    expect(['foo', 'bar', 'other'].map((os) => truth(grouped, { os_name: os, python_version: '2.7.4' }))).toEqual([
      true,
      true,
      false,
    ]);
    expect(truth("extra == 'security'", { extra: 'quux' })).toBe(false);
    expect(truth("extra == 'security'", { extra: 'security' })).toBe(true);
    expect(truth("extra == 'SECURITY'", { extra: 'security' })).toBe(true);
    expect(truth("extra == 'security'", { extra: 'SECURITY' })).toBe(true);
    expect(truth("extra == 'pep-685-norm'", { extra: 'PEP_685...norm' })).toBe(true);
    expect(truth("extra == 'Different.punctuation..is...equal'", { extra: 'different__punctuation_is_EQUAL' })).toBe(
      true,
    );
  });

  it('TestOperatorEvaluation: PEP 440 first, then the string rules', () => {
    expect(truth('"2.7.9" < python_full_version', { python_full_version: '2.7.10' })).toBe(true);
    expect(truth('"2.7.9" < python_full_version', { python_full_version: '2.7.8' })).toBe(false);
    expect(truth('"b" < python_full_version', { python_full_version: 'c' })).toBe(false);
    expect(truth('"b" < python_full_version', { python_full_version: 'a' })).toBe(false);
    expect(truth('python_full_version > "3.6.2"', { python_full_version: '3.11.0a5' })).toBe(true); // allows_prerelease
    expect(problem("'2.7.0' ~= os_name")).toMatch(/^"~=" compares versions, and os_name is not a version/);
  });

  it('test_evaluate_pep345_markers and the setuptools spelling', () => {
    expect(truth("sys.platform == 'win32'", { sys_platform: 'linux2' })).toBe(false);
    expect(truth("platform.version in 'Ubuntu'", { platform_version: '#39' })).toBe(false);
    expect(truth("platform.machine=='x86_64'", { platform_machine: 'x86_64' })).toBe(true);
    expect(truth("platform.python_implementation=='Jython'", { platform_python_implementation: 'CPython' })).toBe(
      false,
    );
    const py25 = "python_version == '2.5' and platform.python_implementation!= 'Jython'";
    expect(truth(py25, { python_version: '2.7' })).toBe(false); // packaging fills in the rest; false settles it
    expect(truth("python_implementation=='Jython'", { platform_python_implementation: 'CPython' })).toBe(false);
    expect(truth("os.name == 'posix'", LINUX)).toBe(true);
  });

  it('test_extras_and_dependency_groups, and they are unknown when not given', () => {
    for (const variable of ['extras', 'dependency_groups']) {
      const env = { [variable]: new Set(['foo', 'bar']) };
      const cases: [string, boolean][] = [
        ['"foo" in {0}', true],
        ['"bar" in {0}', true],
        ['"baz" in {0}', false],
        ['"baz" not in {0}', true],
        ['"foo" in {0} and "bar" in {0}', true],
        ['"baz" in {0} and "foo" in {0}', false],
        ['"foo" in {0} or "baz" in {0}', true],
        ['"Foo" in {0}', true],
      ];
      for (const [expression, result] of cases) expect(truth(expression.replaceAll('{0}', variable), env)).toBe(result);
      expect(truth(`"foo" in ${variable}`, {})).toBe('unknown');
      expect(problem(`${variable} in "foo"`)).toMatch(new RegExp(`^${variable} is a set of names: write "name" in`));
      expect(problem(`${variable} == "foo"`)).toMatch(/only "name" in/);
    }
  });

  it('test_version_like_equality: extras are names, never versions (packaging issue #938)', () => {
    expect(truth('extra == "v2"', { extra: '' })).toBe(false);
    expect(truth('extra == "v2"', { extra: 'v2' })).toBe(true);
    expect(truth('extra == "v2"', { extra: 'v2a3' })).toBe(false);
    expect(truth('extra == "v2a3"', { extra: 'v2' })).toBe(false);
    expect(truth('extra == "v2a3"', { extra: 'v2a3' })).toBe(true);
    const nested = '(extra == "Foo_Bar" or extra == "Baz") and python_version >= "3"';
    expect(truth(nested, { extra: 'foo-bar', python_version: '3.12' })).toBe(true);
  });

  it('test_python_full_version_untagged: "3.11.1+" is read as a local version', () => {
    expect(truth("python_full_version < '3.12'", { python_full_version: '3.11.1+' })).toBe(true);
  });
});

describe('version comparisons (PEP 440 "Version specifiers")', () => {
  const full = (marker: string, version: string) => truth(marker, { python_full_version: version });

  it('pads releases with zeros, matches prefixes with .*, ignores a local label unless one is named', () => {
    expect(full('python_full_version == "3.8"', '3.8.0')).toBe(true);
    expect(full('python_full_version == "3.8.*"', '3.8.10')).toBe(true);
    expect(full('python_full_version == "3.8.*"', '3.9.0')).toBe(false);
    expect(full('python_full_version != "3.8.*"', '3.9.0')).toBe(true);
    expect(full('python_full_version == "3.8.0.*"', '3.8')).toBe(true);
    expect(full('python_full_version == "3.13.*"', '3.13.0rc1')).toBe(true);
    expect(full('python_full_version == "3.8.0"', '3.8.0+ubuntu1')).toBe(true);
    expect(full('python_full_version == "3.8.0+ubuntu1"', '3.8.0')).toBe(false);
    expect(full('python_full_version == "1!3.8.*"', '3.8.0')).toBe(false); // epochs differ
  });

  it('~= is >= and == on the prefix (the spec’s ~=2.2, ~=1.4.5, ~=2.2.post3, ~=1.4.5a4)', () => {
    expect(['2.1', '2.2', '2.9', '3.0'].map((v) => full('python_full_version ~= "2.2"', v))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(['1.4.4', '1.4.5', '1.4.9', '1.5.0'].map((v) => full('python_full_version ~= "1.4.5"', v))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(['2.2', '2.2.post3', '2.9', '3.0'].map((v) => full('python_full_version ~= "2.2.post3"', v))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(['1.4.5a3', '1.4.5a4', '1.4.5', '1.5'].map((v) => full('python_full_version ~= "1.4.5a4"', v))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(problem('python_full_version ~= "3"')).toMatch(/is not a version specifier/); // needs two release numbers
  });

  it('< and > exclude pre-, post- and local releases of the version named (exclusive ordered comparison)', () => {
    expect(full('python_full_version < "3.12"', '3.12.0a1')).toBe(false);
    expect(full('python_full_version < "3.12"', '3.11.9')).toBe(true);
    expect(full('python_full_version < "3.12.0rc1"', '3.12.0a1')).toBe(true);
    expect(full('python_full_version > "1.7"', '1.7.1')).toBe(true);
    expect(full('python_full_version > "1.7"', '1.7.0.post1')).toBe(false);
    expect(full('python_full_version > "1.7.post2"', '1.7.0.post3')).toBe(true);
    expect(full('python_full_version > "1.7"', '1.7+local')).toBe(false);
    // packaging 26.2 narrows both to the version named itself: 3.8rc1 is no pre-release of 3.8.post1, 3.8.post1 no
    // post-release of 3.8rc1 (specifiers.py `_earliest_prerelease`, `_post_base`; checked against packaging 26.2).
    expect(full('python_full_version < "3.8.post1"', '3.8.0rc1')).toBe(true);
    expect(full('python_full_version > "3.8.0rc1"', '3.8.post1')).toBe(true);
    expect(full('python_full_version > "3.8.0rc1"', '3.8.0+local')).toBe(true);
    expect(full('python_full_version <= "3.8"', '3.8.0+local')).toBe(true);
  });

  it('=== is string equality; a value that is no version matches no specifier; else strings are compared', () => {
    expect(full('python_full_version === "3.8.0"', '3.8.0')).toBe(true);
    expect(full('python_full_version === "3.8"', '3.8.0')).toBe(false);
    expect(full('python_full_version === "DOG"', 'dog')).toBe(true); // neither side need be a version
    const release = (marker: string) => truth(marker, { platform_release: '5.15.0-91-generic' });
    expect(release('platform_release >= "5.0"')).toBe(false); // not PEP 440: packaging 22+ matches nothing
    expect(release('platform_release == "5.15.0-91-generic"')).toBe(true); // no specifier: the strings
    expect(release('platform_release >= "5.15.0-91-generic"')).toBe(true); // >= on strings is ==
    expect(release('platform_release > "5.15.0-91-generic"')).toBe(false); // and > is false
    expect(release('"generic" in platform_release')).toBe(true);
    expect(truth('sys_platform >= "linux"', LINUX)).toBe(true);
    expect(truth('sys_platform < "m"', LINUX)).toBe(false); // no ordering of strings
    expect(truth('"2.7.0" ~= python_version', { python_version: 'dog' })).toBe('unknown'); // undefined comparison
  });
});

describe('parseMarker on hostile input', () => {
  it('refuses what is not a marker, saying where', () => {
    expect(problem('')).toBe('expected a marker variable or quoted string at column 1 of marker ""');
    expect(problem('os_name == "posix')).toMatch(/^an unterminated string at column 12/);
    expect(problem('os_name == "posix" and')).toMatch(/^expected a marker variable or quoted string/);
    expect(problem('os_name == os_name')).toMatch(/not two variables at column 1/);
    expect(problem('os_name not "nt"')).toMatch(/^expected "in" after "not" at column 13/);
    expect(problem('not os_name == "nt"')).toMatch(/^unexpected "not" at column 1/);
    expect(problem('os_name == "nt" && sys_platform == "win32"')).toMatch(/^unexpected "&" at column 17/);
    expect(problem('os_name == "nt"\nor os_name == "posix"')).toMatch(/^unexpected "\n" at column 16/);
    expect(problem('os_name == "nt"andos_name == "posix"')).toMatch(/^unexpected "andos_name"/);
    expect(problem('constructor == "x"')).toMatch(/^unexpected "constructor"/);
    expect(problem('__proto__ == "x"')).toMatch(/^unexpected "__proto__"/);
    expect(problem('os_name == "a")')).toMatch(/^unexpected "\)" at column 15/);
  });

  it('refuses nesting past 32 parentheses instead of exhausting the stack', () => {
    const deep = (n: number) => `${'('.repeat(n)}os_name == "nt"${')'.repeat(n)}`;
    expect(truth(deep(32), WINDOWS)).toBe(true);
    expect(problem(deep(100_000))).toMatch(/^parentheses nested deeper than 32 at column 33/);
  });

  it('reads markers written without spaces, with tabs, either quotes, and trailing blanks', () => {
    expect(truth('os_name=="nt"or(sys_platform=="linux")', LINUX)).toBe(true);
    expect(truth("\tos_name\t==\t'posix'\tand'x86'in platform_machine  ", LINUX)).toBe(true);
    expect(truth(`sys_platform == 'it"s'`, { sys_platform: 'it"s' })).toBe(true);
    expect(parseMarker('"3.8" > python_version')).toEqual({
      kind: 'compare',
      variable: 'python_version',
      op: '>',
      value: '3.8',
      variableFirst: false,
    });
  });

  it('reports through the callback and counts a broken marker as unknown', () => {
    const reported: string[] = [];
    expect(markerTruth('os_name === "nt"', LINUX, (p) => reported.push(p))).toBe('unknown');
    expect(reported).toEqual([
      '"===" compares versions, and os_name is not a version at column 1 of marker "os_name === "nt""',
    ]);
    const parsed = parseMarker('sys_platform == "win32" or python_version < "3.8"');
    if (typeof parsed === 'string') throw new Error(parsed);
    expect([evaluateMarker(parsed, LINUX), evaluateMarker(parsed, WINDOWS)]).toEqual(['unknown', true]);
  });
});
