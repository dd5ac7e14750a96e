// The Server-Sent Events reader of `kiln submit --follow`: events split across chunks anywhere, multi-line data,
// comments and keep-alives skipped, CRLF line ends.
import { describe, expect, it } from 'vitest';
import { serverSentEvents } from '../../../src/cli/event-stream.js';

/** A body that arrives in the given chunks. */
const body = (chunks: readonly string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });

const all = async (chunks: readonly string[]) => {
  const events = [];
  for await (const e of serverSentEvents(body(chunks))) events.push(e);
  return events;
};

describe('serverSentEvents', () => {
  it('reads events split anywhere across chunks, including inside a multi-byte character', async () => {
    const text =
      'event: log\ndata: {"text":"héllo"}\nid: 1:1\n\n: still running\n\nevent: end\ndata: {"status":"failed"}\n\n';
    const bytes = new TextEncoder().encode(text);
    const events = [];
    // One byte at a time: every split point, including the middle of "é".
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const b of bytes) controller.enqueue(new Uint8Array([b]));
        controller.close();
      },
    });
    for await (const e of serverSentEvents(stream)) events.push(e);
    expect(events).toEqual([
      { event: 'log', data: '{"text":"héllo"}', id: '1:1' },
      { event: 'end', data: '{"status":"failed"}', id: undefined },
    ]);
  });

  it('joins data lines, defaults the type to message, accepts CRLF, and drops a block without data', async () => {
    expect(await all(['data: a\r\ndata:b\r\n\r\n', 'event: x\nid: 7\n\n', 'retry: 10\ndata: c\n\n'])).toEqual([
      { event: 'message', data: 'a\nb', id: undefined },
      { event: 'message', data: 'c', id: undefined },
    ]);
  });

  it('yields nothing for an event cut off before its blank line', async () => {
    expect(await all(['event: log\ndata: {"text":"half"}\n'])).toEqual([]);
  });
});
