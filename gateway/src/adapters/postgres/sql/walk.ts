/**
 * One pass over a statement's parse tree, collecting what the policy needs:
 * every table referenced (and whether it is written), every function call,
 * every data change (nested ones included), the run-time settings changed,
 * and the prepared statements it executes.
 *
 * Table references come in several shapes: RangeVar nodes (FROM, JOIN,
 * USING, TRUNCATE, LOCK, GRANT), bare RangeVar fields (`relation` of
 * INSERT/UPDATE/DELETE/COPY/ALTER, `rel` of INTO), and name lists (DROP,
 * COMMENT). CTE names in FROM are resolved against the WITH scopes and are
 * not tables. Code that does not run now (view and function bodies, rule
 * actions, plain EXPLAIN) is walked as "not executing": its tables are
 * reported as read and its data changes are not reported.
 */
import type { SqlTable } from '../../../policy/input.js';
import { parseSql } from './parser.js';

export interface DmlEntry {
  verb: string;
  table: string;
  has_where: boolean;
}

/** An EXECUTE of a prepared statement; `executing` is false under a plain EXPLAIN. */
export interface ExecuteRef {
  name: string;
  executing: boolean;
}

/** A string constant that carries a secret (dblink connection strings). */
export interface SecretConst {
  location: number;
  value: string;
}

export class Facts {
  readonly tables = new Map<string, SqlTable>();
  readonly functions = new Set<string>();
  readonly settings = new Set<string>();
  readonly dml: DmlEntry[] = [];
  readonly executes: ExecuteRef[] = [];
  readonly secrets: SecretConst[] = [];

  addTable(schema: string | null, name: string, access: SqlTable['access']): string {
    const qualified = schema === null ? name : `${schema}.${name}`;
    const known = this.tables.get(qualified);
    if (!known) this.tables.set(qualified, { schema, name, qualified, access });
    else if (access === 'write' && known.access === 'read') known.access = 'write';
    return qualified;
  }
}

interface Scope {
  names: ReadonlySet<string>;
  parent: Scope | null;
}

export interface WalkContext {
  /** The code runs now (false for definitions and plain EXPLAIN). */
  executing: boolean;
  /** CTE names visible here. */
  scope: Scope | null;
  /** Access of RangeVars met here: 'write' only in a statement's target fields. */
  access: SqlTable['access'];
  /** Nesting of embedded SQL texts (query_to_xml, SQL function bodies). */
  depth: number;
}

export const TOP: WalkContext = { executing: true, scope: null, access: 'read', depth: 0 };

const MAX_EMBEDDED_DEPTH = 4;

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sval(node: unknown): string | undefined {
  if (!isObj(node)) return undefined;
  const s = node.String;
  return isObj(s) && typeof s.sval === 'string' ? s.sval : undefined;
}

/** A string constant, seen through casts and named arguments. */
function constString(node: unknown): string | undefined {
  if (!isObj(node)) return undefined;
  if (isObj(node.A_Const)) {
    const v = node.A_Const.sval;
    return isObj(v) && typeof v.sval === 'string' ? v.sval : undefined;
  }
  if (isObj(node.TypeCast)) return constString(node.TypeCast.arg);
  if (isObj(node.NamedArgExpr)) return constString(node.NamedArgExpr.arg);
  return undefined;
}

function inScope(scope: Scope | null, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.names.has(name)) return true;
  return false;
}

function rangeVar(body: Obj, f: Facts, ctx: WalkContext, target: boolean): string | undefined {
  const name = body.relname;
  if (typeof name !== 'string') return undefined;
  const schema = typeof body.schemaname === 'string' ? body.schemaname : null;
  if (!target && schema === null && inScope(ctx.scope, name)) return undefined; // a CTE
  const access = target || ctx.access === 'write' ? 'write' : 'read';
  return f.addTable(schema, name, ctx.executing ? access : 'read');
}

/** Walks any value of the tree. */
export function visit(value: unknown, f: Facts, ctx: WalkContext): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) visit(item, f, ctx);
    return;
  }
  const obj = value as Obj;
  let only: string | undefined;
  let count = 0;
  for (const key in obj) {
    only = key;
    if (++count > 1) break;
  }
  if (count === 1 && only !== undefined) {
    const code = only.charCodeAt(0);
    if (code >= 65 && code <= 90) {
      const body = obj[only];
      if (isObj(body)) visitNode(only, body, f, ctx);
      return;
    }
  }
  if (typeof obj.relname === 'string') {
    rangeVar(obj, f, ctx, false); // a bare RangeVar
    return;
  }
  for (const key in obj) visit(obj[key], f, ctx);
}

function visitExcept(body: Obj, skip: ReadonlySet<string>, f: Facts, ctx: WalkContext): void {
  for (const key in body) if (!skip.has(key)) visit(body[key], f, ctx);
}

const read = (ctx: WalkContext): WalkContext =>
  ctx.access === 'read' ? ctx : { ...ctx, access: 'read' };

const notExecuting = (ctx: WalkContext): WalkContext => ({
  ...ctx,
  access: 'read',
  executing: false,
});

/** Fields of DDL/utility statements that name the relation the statement acts on. */
const TARGET_FIELDS = new Set([
  'relation',
  'relations',
  'view',
  'sequence',
  'table',
  'objects',
  'rels',
]);

/** Statements whose `relation`-like fields are not written. */
const NOT_TARGET = new Set(['CompositeTypeStmt', 'DeclareCursorStmt', 'VariableShowStmt']);

/** Walks one node `{type: body}`. */
export function visitNode(type: string, body: Obj, f: Facts, ctx: WalkContext): void {
  switch (type) {
    case 'RangeVar':
      rangeVar(body, f, ctx, false);
      return;
    case 'FuncCall':
      funcCall(body, f, ctx);
      return;
    case 'SelectStmt':
      select(body, f, ctx);
      return;
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      dml(type, body, f, ctx);
      return;
    case 'ExecuteStmt':
      if (typeof body.name === 'string') {
        f.executes.push({ name: body.name, executing: ctx.executing });
      }
      visit(body.params, f, read(ctx));
      return;
    case 'CallStmt':
      if (isObj(body.funccall)) funcCall(body.funccall, f, read(ctx));
      return;
    case 'CopyStmt':
      if (isObj(body.relation)) rangeVar(body.relation, f, ctx, Boolean(body.is_from));
      visit(body.query, f, read(ctx));
      visit(body.whereClause, f, read(ctx));
      return;
    case 'ExplainStmt':
      visit(body.query, f, explainAnalyzes(body.options) ? read(ctx) : notExecuting(ctx));
      return;
    case 'PrepareStmt':
      // PREPARE reports what it prepares, writes included (the contract's "PREPARE of a write").
      visit(body.query, f, read(ctx));
      return;
    case 'CreateTableAsStmt':
      if (isObj(body.into) && isObj(body.into.rel)) rangeVar(body.into.rel, f, ctx, true);
      visit(body.query, f, read(ctx));
      return;
    case 'ViewStmt':
      if (isObj(body.view)) rangeVar(body.view, f, ctx, true);
      visit(body.query, f, notExecuting(ctx));
      return;
    case 'CreateFunctionStmt':
      createFunction(body, f, ctx);
      return;
    case 'RuleStmt':
      if (isObj(body.relation)) rangeVar(body.relation, f, ctx, true);
      visit(body.whereClause, f, notExecuting(ctx));
      visit(body.actions, f, notExecuting(ctx));
      return;
    case 'CreateTrigStmt':
      if (isObj(body.relation)) rangeVar(body.relation, f, ctx, true);
      visit(body.whenClause, f, notExecuting(ctx));
      return;
    case 'DropStmt':
      if (TABLE_LIKE.has(String(body.removeType))) {
        for (const obj of asArray(body.objects)) nameList(listItems(obj), f, ctx, false);
      }
      return;
    case 'CommentStmt':
    case 'SecLabelStmt':
      if (TABLE_LIKE.has(String(body.objtype))) nameList(listItems(body.object), f, ctx, false);
      else if (body.objtype === 'OBJECT_COLUMN') nameList(listItems(body.object), f, ctx, true);
      return;
    case 'VariableSetStmt':
      variableSet(body, f);
      return;
    case 'AlterSystemStmt':
    case 'AlterDatabaseSetStmt':
    case 'AlterRoleSetStmt':
      // Defaults for later sessions: reported as settings too (fail closed).
      if (isObj(body.setstmt)) variableSet(body.setstmt, f);
      visitExcept(body, SETSTMT, f, read(ctx));
      return;
    case 'DiscardStmt':
      if (body.target === 'DISCARD_ALL') {
        // DISCARD ALL runs SET SESSION AUTHORIZATION DEFAULT and RESET ALL.
        f.settings.add('session_authorization');
        f.settings.add('all');
      }
      return;
    case 'CompositeTypeStmt':
      visit(body.coldeflist, f, read(ctx));
      return;
    default:
      if (type.endsWith('Stmt') && !NOT_TARGET.has(type)) {
        const inner = read(ctx);
        const target: WalkContext = { ...ctx, access: 'write' };
        for (const key in body) visit(body[key], f, TARGET_FIELDS.has(key) ? target : inner);
        return;
      }
      for (const key in body) visit(body[key], f, ctx);
  }
}

const SETSTMT = new Set(['setstmt']);

/** Object types whose names are relations (pg_class). */
const TABLE_LIKE = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_SEQUENCE',
  'OBJECT_INDEX',
]);

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function listItems(node: unknown): string[] {
  if (!isObj(node)) return [];
  const list = node.List;
  const items = isObj(list) ? asArray(list.items) : [];
  const out: string[] = [];
  for (const item of items) {
    const s = sval(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** `[name]`, `[schema, name]` or `[catalog, schema, name]`; with a column last when `column`. */
function nameList(items: string[], f: Facts, ctx: WalkContext, column: boolean): void {
  const parts = column ? items.slice(0, -1) : items;
  const name = parts[parts.length - 1];
  if (name === undefined) return;
  const schema = parts.length >= 2 ? (parts[parts.length - 2] ?? null) : null;
  f.addTable(schema, name, ctx.executing ? 'write' : 'read');
}

/** EXPLAIN runs the statement when ANALYZE is given and not turned off. */
function explainAnalyzes(options: unknown): boolean {
  let analyze = false;
  for (const opt of asArray(options)) {
    const d = isObj(opt) && isObj(opt.DefElem) ? opt.DefElem : undefined;
    if (d?.defname !== 'analyze') continue;
    const arg = d.arg;
    if (arg === undefined) {
      analyze = true;
      continue;
    }
    const text = sval(arg);
    if (text !== undefined) {
      analyze = !['false', 'off', 'no', '0'].includes(text.toLowerCase());
      continue;
    }
    const int = isObj(arg) && isObj(arg.Integer) ? arg.Integer.ival : undefined;
    analyze = int === undefined ? true : Number(int) !== 0; // anything else: assume it runs
  }
  return analyze;
}

/** Pushes a WITH clause's names; walks the CTE bodies. Returns the context for the statement body. */
function withClause(clause: unknown, f: Facts, ctx: WalkContext): WalkContext {
  if (!isObj(clause)) return ctx;
  const ctes: Obj[] = [];
  for (const item of asArray(clause.ctes)) {
    if (isObj(item) && isObj(item.CommonTableExpr)) ctes.push(item.CommonTableExpr);
  }
  const all = new Set<string>();
  for (const cte of ctes) if (typeof cte.ctename === 'string') all.add(cte.ctename);
  if (clause.recursive) {
    const scoped = { ...ctx, scope: { names: all, parent: ctx.scope } };
    for (const cte of ctes) visit(cte.ctequery, f, scoped);
    return scoped;
  }
  // Without RECURSIVE a CTE sees only the ones before it.
  const seen = new Set<string>();
  for (const cte of ctes) {
    visit(cte.ctequery, f, { ...ctx, scope: { names: new Set(seen), parent: ctx.scope } });
    if (typeof cte.ctename === 'string') seen.add(cte.ctename);
  }
  return { ...ctx, scope: { names: all, parent: ctx.scope } };
}

const SELECT_SKIP = new Set(['withClause', 'intoClause']);

function select(body: Obj, f: Facts, ctx: WalkContext): void {
  const inner = withClause(body.withClause, f, read(ctx));
  const into = body.intoClause;
  if (isObj(into) && isObj(into.rel)) rangeVar(into.rel, f, ctx, true);
  visitExcept(body, SELECT_SKIP, f, inner);
}

const DML_SKIP = new Set(['withClause', 'relation']);

function dml(type: string, body: Obj, f: Facts, ctx: WalkContext): void {
  const inner = withClause(body.withClause, f, read(ctx));
  const verb = type.slice(0, -'Stmt'.length).toLowerCase();
  const relation = isObj(body.relation) ? body.relation : undefined;
  const table = relation ? (rangeVar(relation, f, ctx, true) ?? '?') : '?';
  if (ctx.executing) {
    let hasWhere = false;
    if (type === 'UpdateStmt' || type === 'DeleteStmt') hasWhere = body.whereClause != null;
    else if (type === 'MergeStmt') hasWhere = !isConstTrue(body.joinCondition);
    f.dml.push({ verb, table, has_where: hasWhere });
    const conflict = body.onConflictClause;
    if (isObj(conflict) && conflict.action === 'ONCONFLICT_UPDATE') {
      // INSERT ... ON CONFLICT DO UPDATE updates the conflicting rows.
      f.dml.push({ verb: 'update', table, has_where: true });
    }
    if (type === 'UpdateStmt' && relation && isPgSettings(relation)) {
      // UPDATE pg_settings calls set_config() for each row it changes.
      for (const name of settingNames(body.whereClause) ?? ['*']) f.settings.add(name);
    }
  }
  visitExcept(body, DML_SKIP, f, inner);
}

function isConstTrue(node: unknown): boolean {
  if (!isObj(node) || !isObj(node.A_Const)) return false;
  const b = node.A_Const.boolval;
  return isObj(b) && b.boolval === true;
}

function isPgSettings(relation: Obj): boolean {
  return (
    relation.relname === 'pg_settings' &&
    (relation.schemaname === undefined || relation.schemaname === 'pg_catalog')
  );
}

function isNameColumn(node: unknown): boolean {
  if (!isObj(node) || !isObj(node.ColumnRef)) return false;
  const fields = asArray(node.ColumnRef.fields);
  return sval(fields[fields.length - 1]) === 'name';
}

/**
 * The setting names an UPDATE of pg_settings can touch, from WHERE clauses
 * like `name = 'role'`, `name IN (...)` and their AND/OR combinations; null
 * when the WHERE clause does not bound them.
 */
function settingNames(where: unknown): string[] | null {
  if (!isObj(where)) return null;
  if (isObj(where.A_Expr)) {
    const e = where.A_Expr;
    const op = sval(asArray(e.name)[0]);
    if (op !== '=') return null;
    if (e.kind === 'AEXPR_OP') {
      const [col, value] = isNameColumn(e.lexpr) ? [e.lexpr, e.rexpr] : [e.rexpr, e.lexpr];
      const name = isNameColumn(col) ? constString(value) : undefined;
      return name === undefined ? null : [name.toLowerCase()];
    }
    if (e.kind === 'AEXPR_IN' && isNameColumn(e.lexpr)) {
      const values = isObj(e.rexpr) && isObj(e.rexpr.List) ? asArray(e.rexpr.List.items) : [];
      const names = values.map(constString);
      if (names.length === 0 || names.some((n) => n === undefined)) return null;
      return names.map((n) => String(n).toLowerCase());
    }
    return null;
  }
  if (isObj(where.BoolExpr)) {
    const b = where.BoolExpr;
    const parts = asArray(b.args).map(settingNames);
    if (b.boolop === 'AND_EXPR') {
      const bounded = parts.filter((p): p is string[] => p !== null);
      return bounded.length === 0 ? null : bounded.flat();
    }
    if (b.boolop === 'OR_EXPR') {
      return parts.some((p) => p === null) ? null : (parts as string[][]).flat();
    }
  }
  return null;
}

function variableSet(body: Obj, f: Facts): void {
  const kind = body.kind;
  const name = typeof body.name === 'string' ? body.name.toLowerCase() : undefined;
  if (kind === 'VAR_RESET_ALL') {
    f.settings.add('all');
    return;
  }
  if (kind === 'VAR_SET_MULTI') {
    const prefix = name === 'session characteristics' ? 'default_' : '';
    let found = false;
    for (const arg of asArray(body.args)) {
      const d = isObj(arg) && isObj(arg.DefElem) ? arg.DefElem : undefined;
      if (d && typeof d.defname === 'string') {
        f.settings.add(prefix + d.defname.toLowerCase());
        found = true;
      }
    }
    if (!found) f.settings.add(name ?? '*');
    return;
  }
  f.settings.add(name ?? '*');
}

/** Functions whose first argument is an SQL query they run. */
const RUNS_SQL_ARGUMENT = new Set([
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'ts_stat',
]);

const FUNC_SKIP = new Set(['funcname']);

function funcCall(body: Obj, f: Facts, ctx: WalkContext): void {
  const parts: string[] = [];
  for (const n of asArray(body.funcname)) {
    const s = sval(n);
    if (s !== undefined) parts.push(s.toLowerCase());
  }
  // SQL-standard syntax (EXTRACT, SUBSTRING ... FROM, TRIM): the parser adds pg_catalog.
  if (body.funcformat === 'COERCE_SQL_SYNTAX' && parts.length === 2 && parts[0] === 'pg_catalog') {
    parts.shift();
  }
  const base = parts[parts.length - 1] ?? '';
  f.functions.add(parts.join('.'));
  const args = asArray(body.args);
  if (base === 'set_config') {
    f.settings.add(setConfigName(args));
  } else if (base.startsWith('dblink')) {
    for (const arg of args) {
      const value = constString(arg);
      if (value !== undefined) f.secrets.push({ location: constLocation(arg), value });
    }
  } else if (RUNS_SQL_ARGUMENT.has(base)) {
    const query = constString(args[0]);
    if (query !== undefined) embedded(query, f, ctx, constLocation(args[0]));
  }
  visitExcept(body, FUNC_SKIP, f, read(ctx));
}

function constLocation(node: unknown): number {
  if (!isObj(node)) return -1;
  if (isObj(node.A_Const)) {
    return typeof node.A_Const.location === 'number' ? node.A_Const.location : -1;
  }
  if (isObj(node.TypeCast)) return constLocation(node.TypeCast.arg);
  if (isObj(node.NamedArgExpr)) return constLocation(node.NamedArgExpr.arg);
  return -1;
}

/** set_config(name, value, is_local): the name lower-cased when constant, else `*`. */
function setConfigName(args: unknown[]): string {
  let first: unknown = args[0];
  for (const arg of args) {
    if (isObj(arg) && isObj(arg.NamedArgExpr)) {
      if (arg.NamedArgExpr.name === 'setting_name') first = arg;
      else if (arg === args[0]) first = undefined;
    }
  }
  const name = constString(first);
  return name === undefined ? '*' : name.toLowerCase();
}

/**
 * Walks an SQL text found inside the statement (a query argument, an SQL
 * function body). `location` is where the literal holding it starts in the
 * statement (-1 when unknown).
 */
function embedded(text: string, f: Facts, ctx: WalkContext, location: number): void {
  if (ctx.depth >= MAX_EMBEDDED_DEPTH || text.trim() === '') return;
  const parsed = parseSql(text);
  if (!parsed.ok) return;
  const inner = { ...ctx, access: 'read' as const, scope: null, depth: ctx.depth + 1 };
  const before = f.secrets.length;
  for (const s of parsed.stmts) visit(s.stmt, f, inner);
  if (f.secrets.length > before) {
    // Secrets inside have locations in the embedded text: withhold the whole literal instead.
    f.secrets.length = before;
    f.secrets.push({ location, value: text });
  }
}

const FUNCTION_SKIP = new Set(['options', 'sql_body']);

function createFunction(body: Obj, f: Facts, ctx: WalkContext): void {
  const defining = notExecuting(ctx);
  visit(body.sql_body, f, defining);
  visitExcept(body, FUNCTION_SKIP, f, defining);
  // LANGUAGE sql with a string body: walk the body for the functions and tables it uses.
  let language: string | undefined;
  let source: string | undefined;
  for (const opt of asArray(body.options)) {
    const d = isObj(opt) && isObj(opt.DefElem) ? opt.DefElem : undefined;
    if (!d) continue;
    if (d.defname === 'language') language = sval(d.arg)?.toLowerCase();
    if (d.defname === 'as') source = sval(d.arg) ?? listItems(d.arg)[0];
  }
  if (language === 'sql' && source !== undefined) embedded(source, f, defining, -1);
}

export type { Obj };
export { asArray, isObj, listItems, sval };
