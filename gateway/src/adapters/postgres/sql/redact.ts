/**
 * Secrets in statement texts. `raw` and each statement's `text` go to the
 * policy and to the decision log, so the literals that carry credentials
 * are replaced by `'***'`:
 *
 * - CREATE/ALTER ROLE/USER/GROUP ... [ENCRYPTED] PASSWORD '...'
 * - OPTIONS (password '...') and other password-like options of CREATE/ALTER
 *   SERVER, USER MAPPING and FOREIGN DATA WRAPPER
 * - CREATE/ALTER SUBSCRIPTION ... CONNECTION '...'
 * - string arguments of dblink* functions (connection strings)
 *
 * The parse tree says which values are secrets and roughly where (the option
 * name's location); the scanner's tokens give the exact literal to replace.
 * Afterwards the redacted text is checked: when a secret could not be
 * located, or its value still occurs in the text, the whole statement text
 * is withheld instead.
 */
import type { PgNode, ScanToken } from './parser.js';
import { scanSql } from './parser.js';
import type { Replacement, SourceText } from './source.js';
import { asArray, isObj, type SecretConst, sval } from './walk.js';

export const MASK = "'***'";

/** Option names (lower case) whose values are secrets. */
export function isSecretOption(name: string): boolean {
  const n = name.toLowerCase();
  return (
    n.includes('pass') ||
    n.includes('secret') ||
    n.includes('token') ||
    n.includes('key') ||
    n.includes('credential') ||
    n === 'pwd'
  );
}

/** Where a secret is: after a node location, after a keyword, or at a constant's location. */
type Secret =
  | { kind: 'after'; location: number; value: string }
  | { kind: 'keyword'; keyword: string; value: string }
  | { kind: 'at'; location: number; value: string };

const OPTION_STATEMENTS = new Set([
  'CreateForeignServerStmt',
  'AlterForeignServerStmt',
  'CreateUserMappingStmt',
  'AlterUserMappingStmt',
  'CreateFdwStmt',
  'AlterFdwStmt',
]);

/** The secrets of one statement, from its parse tree. */
export function secretsOf(type: string, body: PgNode, consts: readonly SecretConst[]): Secret[] {
  const out: Secret[] = consts.map((c) => ({ kind: 'at', location: c.location, value: c.value }));
  if (type === 'CreateRoleStmt' || type === 'AlterRoleStmt') {
    for (const d of defElems(body.options)) {
      const value = sval(d.arg);
      if (d.defname === 'password' && value !== undefined) {
        out.push({ kind: 'after', location: num(d.location), value });
      }
    }
  } else if (OPTION_STATEMENTS.has(type)) {
    for (const d of defElems(body.options)) {
      const value = sval(d.arg);
      if (typeof d.defname === 'string' && isSecretOption(d.defname) && value !== undefined) {
        out.push({ kind: 'after', location: num(d.location), value });
      }
    }
  } else if (type === 'CreateSubscriptionStmt' || type === 'AlterSubscriptionStmt') {
    if (typeof body.conninfo === 'string') {
      out.push({ kind: 'keyword', keyword: 'connection', value: body.conninfo });
    }
  }
  return out;
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : -1;
}

function defElems(options: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const o of asArray(options)) if (isObj(o) && isObj(o.DefElem)) out.push(o.DefElem);
  return out;
}

/** A string literal token: '...', E'...', U&'...', N'...', $tag$...$tag$. */
function isStringToken(t: ScanToken): boolean {
  if (t.tokenName === 'SCONST' || t.tokenName === 'USCONST') return true;
  return /^(?:[eEnN]?'|[uU]&'|\$)/.test(t.text);
}

export type Redaction = { withheld: false; replacements: Replacement[] } | { withheld: true };

/**
 * The replacements (absolute byte ranges) that remove the secrets of the
 * statement at [start, end) of the source.
 */
export function redactStatement(
  secrets: readonly Secret[],
  source: SourceText,
  start: number,
  end: number,
): Redaction {
  if (secrets.length === 0) return { withheld: false, replacements: [] };
  const text = source.slice(start, end);
  const tokens = scanSql(text);
  if (!tokens) return { withheld: true };
  const replacements: Replacement[] = [];
  for (const secret of secrets) {
    const token = locate(secret, tokens, start);
    if (!token) return { withheld: true };
    replacements.push({ start: start + token.start, end: start + token.end, text: MASK });
  }
  const redacted = source.replace(start, end, replacements);
  for (const secret of secrets) {
    if (secret.value.length >= 3 && redacted.includes(secret.value)) return { withheld: true };
  }
  return { withheld: false, replacements };
}

function locate(
  secret: Secret,
  tokens: readonly ScanToken[],
  start: number,
): ScanToken | undefined {
  if (secret.kind === 'at') {
    const at = secret.location - start;
    return tokens.find((t) => t.start === at && isStringToken(t));
  }
  let from = 0;
  if (secret.kind === 'after') {
    if (secret.location < 0) return undefined;
    from = secret.location - start;
  } else {
    const keyword = tokens.find((t) => t.text.toLowerCase() === secret.keyword);
    if (!keyword) return undefined;
    from = keyword.end;
  }
  return tokens.find((t) => t.start >= from && isStringToken(t));
}

/** What replaces a statement whose secrets could not be removed token by token. */
export function withheldText(type: string): string {
  return `/* ${type}: text withheld, it carries a secret */`;
}

/** Secret-bearing keywords looked for in a text that does not parse. */
const SECRET_KEYWORDS = new Set(['password', 'connection', 'options']);

/**
 * Redacts a text that does not parse: every string literal after PASSWORD,
 * CONNECTION or a password-like option name, and every literal in an
 * OPTIONS list or a dblink call. When the text cannot even be scanned
 * (an unterminated literal), everything from the first secret keyword on
 * is cut.
 */
export function redactUnparsed(source: SourceText): string {
  const text = source.text;
  const tokens = scanSql(text);
  if (!tokens) {
    const m = /\b(password|connection|options|dblink\w*|secret)\b/i.exec(text);
    return m ? `${text.slice(0, m.index + m[0].length)} ***` : text;
  }
  const replacements: Replacement[] = [];
  let armed = 0; // string literals still to redact after a keyword
  let inList = false;
  for (const t of tokens) {
    const lower = t.text.toLowerCase();
    if (isStringToken(t)) {
      if (armed > 0 || inList) replacements.push({ start: t.start, end: t.end, text: MASK });
      if (armed > 0) armed--;
      continue;
    }
    if (lower === 'options' || lower.startsWith('dblink')) inList = true;
    else if (lower === ')' || lower === ';') inList = false;
    if (SECRET_KEYWORDS.has(lower) || isSecretOption(lower)) armed = 1;
  }
  return source.replace(0, source.byteLength, replacements);
}
