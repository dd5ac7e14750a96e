import { describe, expect, it } from 'vitest';
import { runSlots } from '../../../src/core/slots.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('runSlots', () => {
  it('lets n holders in at once and hands each freed slot to the longest waiter', async () => {
    const slots = runSlots(2);
    const signal = new AbortController().signal;
    const order: string[] = [];
    const a = await slots.acquire(signal);
    const b = await slots.acquire(signal);
    const waitFor = (name: string) =>
      slots.acquire(signal).then((release) => {
        order.push(name);
        return release;
      });
    const c = waitFor('c');
    const d = waitFor('d');
    await tick();
    expect(order).toEqual([]); // both slots are held
    a();
    await tick();
    expect(order).toEqual(['c']);
    b();
    await tick();
    expect(order).toEqual(['c', 'd']);
    (await c)();
    (await d)();
    const again = [await slots.acquire(signal), await slots.acquire(signal)]; // all slots came back
    expect(again).toHaveLength(2);
  });

  it('stops waiting when the build is stopped, without losing the slot', async () => {
    const slots = runSlots(1);
    const stop = new AbortController();
    const held = await slots.acquire(stop.signal);
    const waiting = slots.acquire(stop.signal);
    stop.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    await expect(slots.acquire(stop.signal)).rejects.toThrow('stopped'); // already aborted: no slot
    held();
    const fresh = new AbortController().signal;
    const next = await slots.acquire(fresh); // the aborted waiter did not take the freed slot
    expect(typeof next).toBe('function');
  });
});
