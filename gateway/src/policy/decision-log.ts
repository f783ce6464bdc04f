import pino from 'pino';
import type { DecisionUploader } from './decision-upload.js';

/**
 * Decision logs in OPA's decision-log event shape
 * (https://www.openpolicyagent.org/docs/latest/management-decision-logs/),
 * one JSON object a line, so OPA tooling can read them.
 */
export interface DecisionEvent {
  decision_id: string;
  path: string;
  /** The input and the result as JSON text, so neither is serialised again for the log. */
  inputJson: string;
  resultJson: string;
  revision: string | null;
  timestamp: string;
  evalNs: number;
}

export interface DecisionLogOptions {
  /** 'stdout', a file path, or 'off'. */
  destination: string;
  /** JSON pointers under /input to remove before writing (e.g. /input/command/raw). */
  erase: string[];
  labels: Record<string, string>;
  /** Also send every event to a remote collector. */
  upload?: DecisionUploader | null;
}

export interface DecisionSink {
  write(line: string): unknown;
  flush?(): void;
  flushSync?(): void;
}

/** Decision lines are written in batches of this many bytes, and at least this often. */
export const FLUSH_BYTES = 4096;
export const FLUSH_MS = 1000;

export class DecisionLog {
  readonly #sink: DecisionSink | null;
  readonly #erase: string[][];
  readonly #labelsJson: string;
  readonly #erasedJson: string;
  readonly #timer: NodeJS.Timeout | null = null;
  readonly #upload: DecisionUploader | null;

  constructor(options: DecisionLogOptions, sink?: DecisionSink) {
    this.#sink =
      sink ??
      (options.destination === 'off'
        ? null
        : pino.destination({
            dest: options.destination === 'stdout' ? 1 : options.destination,
            sync: false,
            mkdir: true,
            minLength: FLUSH_BYTES,
          }));
    const sinkRef = this.#sink;
    if (sinkRef?.flush) this.#timer = setInterval(() => sinkRef.flush?.(), FLUSH_MS).unref();
    this.#erase = options.erase.map((p) =>
      p
        .replace(/^\/input\/?/, '')
        .split('/')
        .filter(Boolean),
    );
    this.#labelsJson = JSON.stringify(options.labels);
    this.#upload = options.upload ?? null;
    this.#erasedJson = JSON.stringify(options.erase);
  }

  get enabled(): boolean {
    return this.#sink !== null || this.#upload !== null;
  }

  write(event: DecisionEvent): void {
    if (!this.#sink && !this.#upload) return;
    const input = this.#erase.length > 0 ? eraseAll(event.inputJson, this.#erase) : event.inputJson;
    const bundles =
      event.revision === null ? '{}' : `{"warden":{"revision":${JSON.stringify(event.revision)}}}`;
    const line =
      `{"decision_id":${JSON.stringify(event.decision_id)},"labels":${this.#labelsJson},"path":${JSON.stringify(event.path)},` +
      `"input":${input},"result":${event.resultJson},"bundles":${bundles},` +
      `"timestamp":${JSON.stringify(event.timestamp)},"metrics":{"timer_rego_query_eval_ns":${event.evalNs}}` +
      `${this.#erase.length > 0 ? `,"erased":${this.#erasedJson}` : ''}}`;
    this.#sink?.write(`${line}\n`);
    this.#upload?.add(line);
  }

  /** Writes out the local log and delivers what is queued for the collector (at shutdown). */
  async close(): Promise<void> {
    this.flush();
    await this.#upload?.stop();
  }

  /** Writes out everything buffered, synchronously (at shutdown). */
  flush(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#sink?.flushSync?.();
  }
}

function eraseAll(inputJson: string, paths: string[][]): string {
  const input = JSON.parse(inputJson) as Record<string, unknown>;
  for (const path of paths) {
    let node: unknown = input;
    for (const key of path.slice(0, -1))
      node = (node as Record<string, unknown> | undefined)?.[key];
    if (node && typeof node === 'object')
      delete (node as Record<string, unknown>)[path[path.length - 1]!];
  }
  return JSON.stringify(input);
}
