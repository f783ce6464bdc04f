/**
 * The PostgreSQL parser (libpg-query, PostgreSQL 18 compiled to WASM). Load
 * it once with `await loadSqlParser()`; every other call is synchronous.
 */
import { fingerprintSync, loadModule, parseSync, type ScanToken, scanSync } from 'libpg-query';

/** A parse node: `{ TypeName: { ...fields } }` or, in some positions, the fields alone. */
export type PgNode = Record<string, unknown>;

export interface RawStatement {
  stmt: PgNode;
  /** Byte offset of the statement (after the previous semicolon); 0 when absent. */
  stmt_location?: number;
  /** Byte length; absent or 0 for the last statement (to the end of the text). */
  stmt_len?: number;
}

export type ParseOutcome = { ok: true; stmts: RawStatement[] } | { ok: false; error: string };

let loading: Promise<void> | undefined;
let loaded = false;

/** Loads the parser's WebAssembly module. Call once at startup; later calls are free. */
export async function loadSqlParser(): Promise<void> {
  loading ??= loadModule().then(() => {
    loaded = true;
  });
  await loading;
}

function assertLoaded(): void {
  if (!loaded) throw new Error('the SQL parser is not loaded: await loadSqlParser() first');
}

function message(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return String(err);
}

/** Parses a whole query text (all statements). Never throws once loaded. */
export function parseSql(text: string): ParseOutcome {
  assertLoaded();
  try {
    const result = parseSync(text) as unknown as { stmts?: RawStatement[] };
    return { ok: true, stmts: result.stmts ?? [] };
  } catch (err) {
    return { ok: false, error: message(err) };
  }
}

/** libpg-query's fingerprint of a text, or null when it cannot be computed. */
export function fingerprintSql(text: string): string | null {
  assertLoaded();
  try {
    return fingerprintSync(text);
  } catch {
    return null;
  }
}

/** The scanner's tokens (offsets in UTF-8 bytes), or null when the text cannot be scanned. */
export function scanSql(text: string): ScanToken[] | null {
  assertLoaded();
  try {
    return scanSync(text).tokens;
  } catch {
    return null;
  }
}

export type { ScanToken };
