import type { Command } from '../../policy/input.js';

/** One analysed text, and the session-state change to apply once it is allowed and sent. */
export interface AnalyzedSql {
  command: Command;
  apply(): void;
}

/**
 * Per-connection SQL analysis. Keeps the session's prepared statements (SQL
 * PREPARE and protocol-level Parse share one namespace in PostgreSQL), so an
 * EXECUTE is judged by what it executes.
 */
export interface SqlSession {
  query(text: string): AnalyzedSql;
  parse(statementName: string, text: string): AnalyzedSql;
  closeStatement(statementName: string): void;
}

export { loadSqlParser as prepareSqlAnalysis } from './sql/analyzer.js';
export { createSqlSession } from './sql/session.js';
