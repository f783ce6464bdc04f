/**
 * The SQL analyzer: one query text in, the protocol-neutral `Command` of
 * docs/policy-contract.md out (`command.sql` with one entry per statement).
 *
 *   await loadSqlParser();                       // once, at startup
 *   const command = analyzeSql(text, prepared);  // per query, synchronous
 *   ... ask the policy; if allowed and run:
 *   prepared.commit(command);                    // PREPARE / DEALLOCATE effects
 *
 * The text is parsed once. The analysis of a text does not depend on the
 * session, except for EXECUTE, so it is cached by exact text (LRU); texts
 * with an EXECUTE are re-resolved against the session's prepared
 * statements on every call. Returned commands are frozen: do not mutate.
 */
import { createHash } from 'node:crypto';
import type { Command, SqlStatement, SqlTable } from '../../../policy/input.js';
import { classify } from './classify.js';
import { Lru } from './lru.js';
import { fingerprintSql, type PgNode, parseSql, type RawStatement } from './parser.js';
import {
  type PreparedEffect,
  type PreparedLookup,
  PreparedOverlay,
  type PreparedSummary,
  setEffects,
} from './prepared.js';
import { redactStatement, redactUnparsed, secretsOf, withheldText } from './redact.js';
import { type Replacement, SourceText } from './source.js';
import { type ExecuteRef, Facts, isObj, listItems, sval, TOP, visitNode } from './walk.js';

export { loadSqlParser } from './parser.js';

export const DIALECT = 'postgres';

/** The analysis of one text, independent of the session. */
interface TextAnalysis {
  command: Command;
  /** Per statement: the EXECUTEs it contains. */
  executes: (readonly ExecuteRef[])[];
  effects: readonly PreparedEffect[];
  dependsOnPrepared: boolean;
}

const NO_PREPARED: PreparedLookup = { get: () => undefined };

/** Texts longer than this are analysed every time rather than cached. */
const MAX_CACHED_TEXT = 16 * 1024;

const cache = new Lru<string, TextAnalysis>(1000);

/** Sets the number of texts whose analysis is kept (0 turns the cache off). */
export function setSqlCacheSize(entries: number): void {
  cache.capacity = entries;
}

export function clearSqlCache(): void {
  cache.clear();
}

/**
 * Analyses a query text. Never throws once the parser is loaded: a text that
 * does not parse gives `sql.parse_error` and no statements.
 */
export function analyzeSql(text: string, prepared: PreparedLookup = NO_PREPARED): Command {
  let analysis = cache.get(text);
  if (!analysis) {
    analysis = analyzeText(text);
    if (text.length <= MAX_CACHED_TEXT) cache.set(text, analysis);
  }
  return analysis.dependsOnPrepared ? resolve(analysis, prepared) : analysis.command;
}

function fallbackFingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function analyzeText(text: string): TextAnalysis {
  try {
    return analyzeParsed(text);
  } catch (err) {
    // Fail closed: a text the analyzer cannot handle is reported as unparseable.
    const message = err instanceof Error ? err.message : String(err);
    return unparsed(text, `analysis failed: ${message}`);
  }
}

function unparsed(text: string, error: string): TextAnalysis {
  const source = new SourceText(text);
  const command: Command = {
    raw: redactUnparsed(source),
    fingerprint: fallbackFingerprint(text),
    actions: [],
    objects: [],
    sql: { dialect: DIALECT, statements: [], parse_error: error },
  };
  return { command: freeze(command), executes: [], effects: [], dependsOnPrepared: false };
}

function analyzeParsed(text: string): TextAnalysis {
  const source = new SourceText(text);
  if (text.trim() === '') return empty(text, source);
  const parsed = parseSql(text);
  if (!parsed.ok) return unparsed(text, parsed.error);
  if (parsed.stmts.length === 0) return empty(text, source);

  const total = source.byteLength;
  const statements: SqlStatement[] = [];
  const executes: ExecuteRef[][] = [];
  const effects: PreparedEffect[] = [];
  const allReplacements: Replacement[] = [];
  const single = parsed.stmts.length === 1;
  const commandFingerprint = fingerprintSql(text) ?? fallbackFingerprint(text);

  parsed.stmts.forEach((raw, index) => {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : total;
    const [type, body] = nodeOf(raw);
    const facts = new Facts();
    visitNode(type, body, facts, TOP);

    const secrets = secretsOf(type, body, facts.secrets);
    const redaction = redactStatement(secrets, source, start, end);
    let statementText: string;
    if (redaction.withheld) {
      statementText = withheldText(type);
      allReplacements.push({ start, end, text: statementText });
    } else {
      statementText = source.replace(start, end, redaction.replacements).trim();
      allReplacements.push(...redaction.replacements);
    }
    const fingerprint = single
      ? commandFingerprint
      : (fingerprintSql(source.slice(start, end)) ?? fallbackFingerprint(source.slice(start, end)));

    const statement = buildStatement(index, type, body, facts, fingerprint, statementText);
    statements.push(statement);
    executes.push(facts.executes);
    const effect = effectOf(index, type, body, statement);
    if (effect) effects.push(effect);
  });

  const command: Command = {
    raw: source.replace(0, total, allReplacements),
    fingerprint: commandFingerprint,
    actions: actionsOf(statements),
    objects: objectsOf(statements),
    sql: { dialect: DIALECT, statements },
  };
  const dependsOnPrepared = executes.some((e) => e.length > 0);
  freeze(command);
  setEffects(command, effects);
  return { command, executes, effects, dependsOnPrepared };
}

function empty(text: string, source: SourceText): TextAnalysis {
  const command: Command = {
    raw: source.text,
    fingerprint: (text === '' ? null : fingerprintSql(text)) ?? fallbackFingerprint(text),
    actions: [],
    objects: [],
    sql: { dialect: DIALECT, statements: [] },
  };
  return { command: freeze(command), executes: [], effects: [], dependsOnPrepared: false };
}

function nodeOf(raw: RawStatement): [string, PgNode] {
  for (const key in raw.stmt) {
    const body = raw.stmt[key];
    return [key, isObj(body) ? body : {}];
  }
  return ['Unknown', {}];
}

function buildStatement(
  index: number,
  type: string,
  body: PgNode,
  facts: Facts,
  fingerprint: string,
  text: string,
): SqlStatement {
  const kind = classify(type, body);
  const tables = [...facts.tables.values()];
  const hiddenWrites = facts.dml.length > 0 || tables.some((t) => t.access === 'write');
  let category = kind.category;
  if (
    type !== 'PrepareStmt' &&
    facts.dml.length > 0 &&
    (category === 'read' || category === 'utility')
  ) {
    category = 'write'; // data-modifying CTEs, EXPLAIN ANALYZE of a write
  }
  let copy: SqlStatement['copy'];
  if (type === 'CopyStmt') {
    const program = Boolean(body.is_program);
    copy = {
      direction: body.is_from ? 'from' : 'to',
      program,
      file: !program && typeof body.filename === 'string',
    };
  }
  // One object shape for every statement (fields in contract order). Absent
  // optional fields are undefined, which JSON leaves out.
  return {
    index,
    node: type,
    verb: kind.verb,
    object_type: kind.object_type,
    category,
    writes: kind.writes || hiddenWrites,
    dml: facts.dml,
    tables,
    functions: [...facts.functions],
    settings: [...facts.settings],
    copy,
    language: languageOf(type, body),
    prepared_unknown: undefined,
    fingerprint,
    text,
  };
}

function languageOf(type: string, body: PgNode): string | undefined {
  if (type === 'DoStmt') return optionValue(body.args, 'language') ?? 'plpgsql';
  if (type === 'CreateFunctionStmt') {
    const language = optionValue(body.options, 'language');
    if (language !== undefined) return language;
    return body.sql_body ? 'sql' : undefined; // BEGIN ATOMIC / RETURN bodies are SQL
  }
  if (type === 'CreatePLangStmt' && typeof body.plname === 'string')
    return body.plname.toLowerCase();
  return undefined;
}

function optionValue(options: unknown, name: string): string | undefined {
  if (!Array.isArray(options)) return undefined;
  for (const o of options) {
    if (isObj(o) && isObj(o.DefElem) && o.DefElem.defname === name) {
      return (sval(o.DefElem.arg) ?? listItems(o.DefElem.arg)[0])?.toLowerCase();
    }
  }
  return undefined;
}

function effectOf(
  index: number,
  type: string,
  body: PgNode,
  statement: SqlStatement,
): PreparedEffect | null {
  if (type === 'PrepareStmt' && typeof body.name === 'string') {
    return { kind: 'define', index, name: body.name, summary: preparedSummary(body, statement) };
  }
  if (type === 'DeallocateStmt') {
    if (body.isall || typeof body.name !== 'string') return { kind: 'close_all', index };
    return { kind: 'close', index, name: body.name };
  }
  if (type === 'DiscardStmt' && body.target === 'DISCARD_ALL') return { kind: 'close_all', index };
  return null;
}

/** What EXECUTE of a statement prepared by this PREPARE inherits. */
function preparedSummary(body: PgNode, statement: SqlStatement): PreparedSummary {
  let category: SqlStatement['category'] = 'utility';
  if (isObj(body.query)) {
    for (const key in body.query) {
      const inner = body.query[key];
      category = classify(key, isObj(inner) ? inner : {}).category;
    }
  }
  if (statement.dml.length > 0 && (category === 'read' || category === 'utility'))
    category = 'write';
  return {
    category,
    writes: statement.writes,
    dml: statement.dml,
    tables: statement.tables,
    functions: statement.functions,
    settings: statement.settings,
  };
}

function actionsOf(statements: readonly SqlStatement[]): string[] {
  const out = new Set<string>();
  for (const s of statements) {
    out.add(s.verb);
    for (const d of s.dml) out.add(d.verb);
  }
  return [...out];
}

function objectsOf(statements: readonly SqlStatement[]): string[] {
  const out = new Set<string>();
  for (const s of statements) for (const t of s.tables) out.add(t.qualified);
  return [...out];
}

/** Fills in EXECUTE statements from the session's prepared statements (and earlier PREPAREs of the text). */
function resolve(analysis: TextAnalysis, prepared: PreparedLookup): Command {
  const base = analysis.command;
  const sql = base.sql;
  if (!sql) return base;
  const overlay = new PreparedOverlay(prepared);
  let effect = 0;
  const statements = sql.statements.map((s, i) => {
    const refs = analysis.executes[i] ?? [];
    const resolved = refs.length === 0 ? s : withExecuted(s, refs, overlay);
    while (effect < analysis.effects.length && (analysis.effects[effect]?.index ?? 0) <= i) {
      const e = analysis.effects[effect++];
      if (e) overlay.apply(e);
    }
    return resolved;
  });
  const command: Command = {
    raw: base.raw,
    fingerprint: base.fingerprint,
    actions: actionsOf(statements),
    objects: objectsOf(statements),
    sql: { dialect: sql.dialect, statements },
  };
  setEffects(command, analysis.effects);
  return command;
}

function withExecuted(
  s: SqlStatement,
  refs: readonly ExecuteRef[],
  lookup: PreparedLookup,
): SqlStatement {
  const tables = new Map<string, SqlTable>();
  for (const t of s.tables) tables.set(t.qualified, { ...t });
  const dml = [...s.dml];
  const functions = new Set(s.functions);
  const settings = new Set(s.settings);
  let writes = s.writes;
  let category = s.category;
  let unknown = false;
  let executedCategory: SqlStatement['category'] | undefined;
  for (const ref of refs) {
    const summary = lookup.get(ref.name);
    if (!summary) {
      unknown = true;
      continue;
    }
    for (const f of summary.functions) functions.add(f);
    for (const x of summary.settings) settings.add(x);
    for (const t of summary.tables) {
      const access = ref.executing ? t.access : 'read';
      const known = tables.get(t.qualified);
      if (!known) tables.set(t.qualified, { ...t, access });
      else if (access === 'write') known.access = 'write';
    }
    if (ref.executing) {
      dml.push(...summary.dml);
      writes ||= summary.writes;
      executedCategory = summary.category;
    }
  }
  if (s.node === 'ExecuteStmt') {
    category = unknown ? 'utility' : (executedCategory ?? category);
  } else if (writes && dml.length > 0 && (category === 'read' || category === 'utility')) {
    category = 'write';
  }
  return {
    index: s.index,
    node: s.node,
    verb: s.verb,
    object_type: s.object_type,
    category,
    writes: writes || unknown, // fail closed: an unknown statement may write
    dml,
    tables: [...tables.values()],
    functions: [...functions],
    settings: [...settings],
    copy: s.copy,
    language: s.language,
    prepared_unknown: unknown ? true : undefined,
    fingerprint: s.fingerprint,
    text: s.text,
  };
}

/** Freezes the command, its statements and their lists (not every nested object: that costs). */
function freeze(command: Command): Command {
  const statements = command.sql?.statements ?? [];
  for (const s of statements) {
    Object.freeze(s.dml);
    Object.freeze(s.tables);
    Object.freeze(s.functions);
    Object.freeze(s.settings);
    Object.freeze(s);
  }
  Object.freeze(statements);
  if (command.sql) Object.freeze(command.sql);
  Object.freeze(command.actions);
  Object.freeze(command.objects);
  return Object.freeze(command);
}
