import { clock, type PolicyInput, type SqlStatement } from '../../gateway/src/policy/input.js';

/** A statement as the PostgreSQL analyzer reports it; override what the test is about. */
export function statement(overrides: Partial<SqlStatement>): SqlStatement {
  return {
    index: 0,
    node: 'SelectStmt',
    verb: 'select',
    object_type: null,
    category: 'read',
    writes: false,
    dml: [],
    tables: [{ schema: 'public', name: 'orders', qualified: 'public.orders', access: 'read' }],
    functions: [],
    settings: [],
    fingerprint: 'fp-select-orders',
    text: 'SELECT id, email FROM public.orders WHERE id = $1',
    ...overrides,
  };
}

export function sqlInput(
  statements: SqlStatement[],
  who: Partial<PolicyInput['identity']> = {},
  labels: Record<string, string> = {},
): PolicyInput {
  return {
    identity: {
      subject: 'svc-reporting',
      groups: [],
      kind: 'agent',
      issuer: 'https://idp.test',
      ...who,
    },
    target: { name: 'orders-db', protocol: 'postgres', labels },
    session: { id: 'sess-1', client_address: '127.0.0.1', started: new Date().toISOString() },
    command: {
      raw: statements.map((s) => s.text).join('; '),
      fingerprint: statements.map((s) => s.fingerprint).join(','),
      actions: [...new Set(statements.map((s) => s.verb))],
      objects: [...new Set(statements.flatMap((s) => s.tables.map((t) => t.qualified)))],
      sql: { dialect: 'postgres', statements },
    },
    grants: [],
    now: clock(),
  };
}

export const SELECT = statement({});
export const DROP = statement({
  node: 'DropStmt',
  verb: 'drop',
  object_type: 'table',
  category: 'ddl',
  writes: true,
  tables: [{ schema: 'public', name: 'orders', qualified: 'public.orders', access: 'write' }],
  fingerprint: 'fp-drop-orders',
  text: 'DROP TABLE public.orders',
});
