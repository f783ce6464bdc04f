/**
 * The prepared statements of one session. SQL PREPARE and the wire
 * protocol's Parse of a named statement share one namespace in PostgreSQL,
 * so both feed this registry, and `EXECUTE name` is judged by what `name`
 * was prepared as.
 *
 * The registry changes only for statements that ran. analyzeSql() does not
 * touch it: it returns the changes a text would make (its "effects": PREPARE
 * defines, DEALLOCATE [ALL] and DISCARD ALL close) and the adapter applies
 * them with `commit(command)` once the policy allowed the text and the
 * server ran it (`commit(command, n)` when only the first n statements ran).
 * Protocol-level Parse and Close go through `define()` and `close()`.
 */
import type { Command, SqlStatement } from '../../../policy/input.js';

/** What an EXECUTE of a prepared statement inherits from it. */
export interface PreparedSummary {
  category: SqlStatement['category'];
  writes: boolean;
  dml: SqlStatement['dml'];
  tables: SqlStatement['tables'];
  functions: string[];
  settings: string[];
}

export type PreparedEffect =
  | { kind: 'define'; index: number; name: string; summary: PreparedSummary }
  | { kind: 'close'; index: number; name: string }
  | { kind: 'close_all'; index: number };

/** A read-only view of prepared statements by name. */
export interface PreparedLookup {
  get(name: string): PreparedSummary | undefined;
}

const effectsOf = new WeakMap<Command, readonly PreparedEffect[]>();

/** Records the effects of an analysed command (used by the analyzer). */
export function setEffects(command: Command, effects: readonly PreparedEffect[]): void {
  if (effects.length > 0) effectsOf.set(command, effects);
}

/** The prepared-statement changes the command makes when it runs, in statement order. */
export function pendingEffects(command: Command): readonly PreparedEffect[] {
  return effectsOf.get(command) ?? [];
}

/** The summary of an analysed statement, as EXECUTE inherits it. */
export function summarize(statement: SqlStatement): PreparedSummary {
  return {
    category: statement.category,
    writes: statement.writes,
    dml: statement.dml,
    tables: statement.tables,
    functions: statement.functions,
    settings: statement.settings,
  };
}

export class PreparedStatements implements PreparedLookup {
  readonly #byName = new Map<string, PreparedSummary>();

  get size(): number {
    return this.#byName.size;
  }

  get(name: string): PreparedSummary | undefined {
    return this.#byName.get(name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** A protocol-level Parse of a named statement (or SQL PREPARE, via commit). */
  define(name: string, statement: SqlStatement | PreparedSummary): void {
    this.#byName.set(name, 'index' in statement ? summarize(statement) : statement);
  }

  /** A protocol-level Close of a statement (or SQL DEALLOCATE, via commit). */
  close(name: string): void {
    this.#byName.delete(name);
  }

  /** DEALLOCATE ALL, DISCARD ALL. */
  clear(): void {
    this.#byName.clear();
  }

  apply(effects: readonly PreparedEffect[], statementsRun = Number.POSITIVE_INFINITY): void {
    for (const e of effects) {
      if (e.index >= statementsRun) break;
      if (e.kind === 'define') this.#byName.set(e.name, e.summary);
      else if (e.kind === 'close') this.#byName.delete(e.name);
      else this.#byName.clear();
    }
  }

  /** Applies the effects of a command that ran (its first `statementsRun` statements). */
  commit(command: Command, statementsRun = Number.POSITIVE_INFINITY): void {
    this.apply(pendingEffects(command), statementsRun);
  }
}

/** The registry as it will be after some effects, without changing it (for a text that prepares and executes). */
export class PreparedOverlay implements PreparedLookup {
  readonly #base: PreparedLookup;
  readonly #changes = new Map<string, PreparedSummary | null>();
  #cleared = false;

  constructor(base: PreparedLookup) {
    this.#base = base;
  }

  get(name: string): PreparedSummary | undefined {
    const changed = this.#changes.get(name);
    if (changed !== undefined) return changed ?? undefined;
    return this.#cleared ? undefined : this.#base.get(name);
  }

  apply(effect: PreparedEffect): void {
    if (effect.kind === 'define') this.#changes.set(effect.name, effect.summary);
    else if (effect.kind === 'close') this.#changes.set(effect.name, null);
    else {
      this.#changes.clear();
      this.#cleared = true;
    }
  }
}
