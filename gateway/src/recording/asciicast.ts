/**
 * A terminal session as an asciicast v2 stream
 * (https://docs.asciinema.org/manual/asciicast/v2/) beside events.jsonl:
 * `terminal.cast`, a header line then `[seconds, "o", text]` and
 * `[seconds, "r", "COLSxROWS"]` lines. Input ("i") is never recorded:
 * typed passwords would land in it; the commands a terminal runs are
 * recorded as command events by the adapter.
 */
import type { RecordStream, SessionRecordWriter } from './writer.js';

export interface TerminalOptions {
  width: number;
  height: number;
  /** Epoch ms of the stream's start; default now. */
  start?: number;
  title?: string;
  /** Only TERM and SHELL are kept. */
  env?: { TERM?: string; SHELL?: string };
  now?: () => number;
}

export class TerminalRecorder {
  readonly stream: RecordStream;
  readonly #start: number;
  readonly #now: () => number;

  constructor(writer: SessionRecordWriter, o: TerminalOptions) {
    this.#now = o.now ?? Date.now;
    this.#start = o.start ?? this.#now();
    this.stream = writer.openStream('terminal', 'asciicast-v2', 'cast');
    const header: Record<string, unknown> = {
      version: 2,
      width: o.width,
      height: o.height,
      timestamp: Math.floor(this.#start / 1000),
    };
    if (o.title) header.title = o.title;
    if (o.env) header.env = { TERM: o.env.TERM, SHELL: o.env.SHELL };
    this.stream.write(`${JSON.stringify(header)}\n`);
  }

  #at(): number {
    return Math.max(0, (this.#now() - this.#start) / 1000);
  }

  /** What the terminal printed. */
  output(text: string): void {
    this.stream.write(`${JSON.stringify([this.#at(), 'o', text])}\n`);
  }

  resize(width: number, height: number): void {
    this.stream.write(`${JSON.stringify([this.#at(), 'r', `${width}x${height}`])}\n`);
  }

  /** Chains the bytes written so far into events.jsonl (call it with each command event). */
  checkpoint(): number {
    return this.stream.checkpoint();
  }
}
