import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processGone, processIdentity } from '../../../src/platform/processes.js';

describe('processIdentity and processGone', () => {
  it('call this process alive, and a finished child gone', () => {
    const me = processIdentity();
    expect(me).toMatch(/^[^/]+\/pid:\[\d+\]\/\d+\/\d+$/);
    expect(processGone(me)).toBe(false);
    const child = spawnSync('true');
    expect(processGone(processIdentity(child.pid as number))).toBe(true);
  });

  it('call a reused pid gone: the same pid with another start time', () => {
    const [host, namespace, pid] = processIdentity().split('/');
    expect(processGone(`${host}/${namespace}/${pid}/1`)).toBe(true);
  });

  it('never call gone a process of another host or pid namespace, or an unreadable identity', () => {
    const [, namespace, pid, started] = processIdentity().split('/');
    expect(processGone(`another-host/${namespace}/999999999/${started}`)).toBe(false);
    expect(processGone(`${processIdentity().split('/')[0]}/pid:[1]/999999999/${started}`)).toBe(false);
    expect(processGone('garbage')).toBe(false);
    expect(pid).toMatch(/^\d+$/);
  });
});
