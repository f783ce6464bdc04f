/**
 * The query text, addressed by the parser's offsets. libpg-query reports
 * locations (stmt_location, stmt_len, node and token positions) in UTF-8
 * bytes, not JavaScript string indices; for ASCII text (the common case) the
 * two are the same and no conversion is done.
 */
export class SourceText {
  readonly text: string;
  readonly ascii: boolean;
  #bytes: Buffer | undefined;

  constructor(text: string) {
    this.text = text;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
    this.ascii = !/[^\u0000-\u007f]/.test(text);
  }

  get byteLength(): number {
    return this.ascii ? this.text.length : this.bytes().length;
  }

  /** The text between two byte offsets. */
  slice(start: number, end: number): string {
    if (this.ascii) return this.text.slice(start, end);
    return this.bytes().toString('utf8', start, end);
  }

  /**
   * The text between two byte offsets with each replacement applied
   * (replacements are byte ranges inside [start, end), not overlapping).
   */
  replace(start: number, end: number, replacements: readonly Replacement[]): string {
    if (replacements.length === 0) return this.slice(start, end);
    const sorted = [...replacements].sort((a, b) => a.start - b.start);
    let out = '';
    let at = start;
    for (const r of sorted) {
      if (r.start < at || r.end > end) continue;
      out += this.slice(at, r.start) + r.text;
      at = r.end;
    }
    return out + this.slice(at, end);
  }

  private bytes(): Buffer {
    this.#bytes ??= Buffer.from(this.text, 'utf8');
    return this.#bytes;
  }
}

/** Replace the bytes [start, end) with text. */
export interface Replacement {
  start: number;
  end: number;
  text: string;
}
