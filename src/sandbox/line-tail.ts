// Splits a step's output into lines per stream and keeps the last few for error messages.

const TAIL_LINES = 20;

/** Splits each stream into lines on its own, and keeps the last lines of both for error messages. */
export class LineTail {
  private readonly partial = new Map<string, string>();
  private readonly tail: string[] = [];

  constructor(private readonly onLine?: (line: string) => void) {}

  push(stream: string, text: string): void {
    const lines = ((this.partial.get(stream) ?? '') + text).split('\n');
    this.partial.set(stream, lines.pop() ?? '');
    this.emit(lines);
  }

  /** Flushes a stream's unterminated last line. */
  end(stream: string, rest: string): void {
    const last = (this.partial.get(stream) ?? '') + rest;
    this.partial.set(stream, '');
    if (last) this.emit(last.split('\n'));
  }

  private emit(lines: string[]): void {
    for (const line of lines) {
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      this.onLine?.(line);
    }
  }

  lines(): string[] {
    return [...this.tail];
  }
}
