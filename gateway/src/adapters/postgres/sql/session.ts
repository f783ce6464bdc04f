/**
 * The per-connection SQL analysis the adapter uses (the SqlSession interface
 * of ../sql-session.ts): the session's prepared statements, fed by SQL
 * PREPARE/DEALLOCATE/DISCARD ALL (through `apply()` once a text ran) and by
 * protocol-level Parse/Close.
 */
import type { Command, SqlStatement } from '../../../policy/input.js';
import type { AnalyzedSql, SqlSession } from '../sql-session.js';
import { analyzeSql } from './analyzer.js';
import { PreparedStatements, type PreparedSummary, summarize } from './prepared.js';

export interface AnalyzedSqlText extends AnalyzedSql {
  /** Applies the session-state changes; `statementsRun` when only the first n statements ran. */
  apply(statementsRun?: number): void;
}

export class PostgresSqlSession implements SqlSession {
  readonly prepared = new PreparedStatements();

  /** A simple-protocol Query (one or more statements). */
  query(text: string): AnalyzedSqlText {
    const command = analyzeSql(text, this.prepared);
    return { command, apply: (n?: number) => this.prepared.commit(command, n) };
  }

  /**
   * A protocol-level Parse of `statementName` (unnamed: ''). `apply()`
   * registers the statement once the Parse went through; PREPARE or
   * DEALLOCATE inside the text take effect when it is executed, which the
   * adapter reports with `executed()`.
   */
  parse(statementName: string, text: string): AnalyzedSqlText {
    const command = analyzeSql(text, this.prepared);
    return {
      command,
      apply: () => this.prepared.define(statementName, summaryOf(command)),
    };
  }

  /** The effects of a parsed statement that was executed (Bind/Execute). */
  executed(command: Command): void {
    this.prepared.commit(command);
  }

  closeStatement(statementName: string): void {
    this.prepared.close(statementName);
  }
}

/** One statement's summary; several (the server rejects those) are merged, failing closed. */
function summaryOf(command: Command): PreparedSummary {
  const statements: readonly SqlStatement[] = command.sql?.statements ?? [];
  const first = statements[0];
  if (statements.length === 1 && first) return summarize(first);
  const failed = command.sql?.parse_error !== undefined;
  const merged: PreparedSummary = {
    category: statements.length === 0 && !failed ? 'read' : 'utility',
    writes: failed || statements.some((s) => s.writes),
    dml: statements.flatMap((s) => s.dml),
    tables: statements.flatMap((s) => s.tables),
    functions: [...new Set(statements.flatMap((s) => s.functions))],
    settings: [...new Set(statements.flatMap((s) => s.settings))],
  };
  return merged;
}

export function createSqlSession(): PostgresSqlSession {
  return new PostgresSqlSession();
}
