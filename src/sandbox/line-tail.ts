// Splits a step's output into lines per stream and keeps the last few for error messages. Memory and time stay
// linear in the output and bounded per line: a step printing hundreds of megabytes without a newline keeps only
// the start of that line here (the log file has all of it).

const TAIL_LINES = 20;
/** Characters kept of one line, for the tail and for progress events; the rest is counted, not kept. */
export const LINE_MAX_CHARS = 2000;

interface Partial {
  text: string;
  /** Characters of the current line left out because it was already LINE_MAX_CHARS long. */
  dropped: number;
}

/** The output stream a line came from. */
export type OutputStream = 'stdout' | 'stderr';

/** Splits each stream into lines on its own, and keeps the last lines of both for error messages. */
export class LineTail {
  private readonly partial = new Map<OutputStream, Partial>();
  private readonly tail: string[] = [];

  constructor(private readonly onLine?: (line: string, stream: OutputStream) => void) {}

  push(stream: OutputStream, text: string): void {
    const pieces = text.split('\n'); // only the new text is split: no rescanning of a long unterminated line
    const current = this.current(stream);
    for (const piece of pieces.slice(0, -1)) {
      this.append(current, piece);
      this.emit(this.take(current), stream);
    }
    this.append(current, pieces.at(-1) ?? '');
  }

  /** Flushes a stream's unterminated last line. */
  end(stream: OutputStream, rest: string): void {
    this.push(stream, rest);
    const current = this.current(stream);
    if (current.text || current.dropped) this.emit(this.take(current), stream);
  }

  lines(): string[] {
    return [...this.tail];
  }

  private current(stream: OutputStream): Partial {
    let current = this.partial.get(stream);
    if (!current) {
      current = { text: '', dropped: 0 };
      this.partial.set(stream, current);
    }
    return current;
  }

  private append(current: Partial, piece: string): void {
    const room = LINE_MAX_CHARS - current.text.length;
    if (piece.length <= room) current.text += piece;
    else {
      current.text += piece.slice(0, room);
      current.dropped += piece.length - room;
    }
  }

  private take(current: Partial): string {
    const line = current.dropped ? `${current.text}… (${current.dropped} more characters)` : current.text;
    current.text = '';
    current.dropped = 0;
    return line;
  }

  private emit(line: string, stream: OutputStream): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.onLine?.(line, stream);
  }
}
