/** The PostgreSQL SQL analyzer's public API (see README.md). */
export { analyzeSql, clearSqlCache, loadSqlParser, setSqlCacheSize } from './analyzer.js';
export {
  type PreparedEffect,
  PreparedStatements,
  type PreparedSummary,
  pendingEffects,
} from './prepared.js';
export { createSqlSession, PostgresSqlSession } from './session.js';
