import { describe, expect, it } from 'vitest';
import { escapeForTerminal } from '../../../src/core/terminal.js';

describe('escapeForTerminal', () => {
  it('shows C0 and C1 controls, ESC, DEL and bidi controls as \\u escapes and leaves other text alone', () => {
    const hostile = 'id\u001b]0;owned\u0007\r\u001b[2K\u009b31m\u007f\u202etxt.exe\u2066x\u2069 ✓ é 漢\u00a0';
    expect(escapeForTerminal(hostile)).toBe(
      'id\\u001b]0;owned\\u0007\\u000d\\u001b[2K\\u009b31m\\u007f\\u202etxt.exe\\u2066x\\u2069 ✓ é 漢\u00a0',
    );
  });

  it('escapes line feeds and tabs in a field, and keeps them in a whole message with keepLines', () => {
    expect(escapeForTerminal('a\nkiln: build succeeded\tx')).toBe('a\\u000akiln: build succeeded\\u0009x');
    expect(escapeForTerminal('a\n\tb\r\u001b', { keepLines: true })).toBe('a\n\tb\\u000d\\u001b');
  });

  it('keeps JSON text valid and meaning the same values', () => {
    const value = { name: 'x\u007f\u0085\u202e\u2028y', nested: ['\u001b'] };
    const text = escapeForTerminal(JSON.stringify(value, null, 2), { keepLines: true });
    expect(text).not.toMatch(/[\u007f\u0085\u202e\u2028]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
