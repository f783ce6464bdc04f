/**
 * What kind of statement a parse node is: its verb, the type of object a
 * DDL/DCL verb acts on, its category, and whether the statement itself
 * changes data or schema (writes hidden inside it are added by the walker).
 * See docs/policy-contract.md, `command.sql`.
 */
import type { SqlStatement } from '../../../policy/input.js';
import type { PgNode } from './parser.js';

export type Category = SqlStatement['category'];

export interface Classification {
  verb: string;
  object_type: string | null;
  category: Category;
  writes: boolean;
}

/** ObjectType enum values whose contract name is not simply the lower-cased suffix. */
const OBJECT_NAMES: Record<string, string> = {
  OBJECT_FDW: 'foreign_data_wrapper',
  OBJECT_FOREIGN_SERVER: 'server',
  OBJECT_MATVIEW: 'materialized_view',
  OBJECT_LARGEOBJECT: 'large_object',
  OBJECT_STATISTIC_EXT: 'statistics',
  OBJECT_TABCONSTRAINT: 'constraint',
  OBJECT_DOMCONSTRAINT: 'domain_constraint',
  OBJECT_OPCLASS: 'operator_class',
  OBJECT_OPFAMILY: 'operator_family',
  OBJECT_TSCONFIGURATION: 'text_search_configuration',
  OBJECT_TSDICTIONARY: 'text_search_dictionary',
  OBJECT_TSPARSER: 'text_search_parser',
  OBJECT_TSTEMPLATE: 'text_search_template',
  OBJECT_PARAMETER_ACL: 'parameter',
  OBJECT_DEFACL: 'default_privileges',
  OBJECT_PUBLICATION_NAMESPACE: 'publication',
  OBJECT_PUBLICATION_REL: 'publication',
};

/** `OBJECT_TABLE` -> `table`, `OBJECT_FOREIGN_SERVER` -> `server`; null when absent. */
export function objectName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const mapped = OBJECT_NAMES[value];
  if (mapped) return mapped;
  return value.startsWith('OBJECT_') ? value.slice(7).toLowerCase() : value.toLowerCase();
}

const c = (
  verb: string,
  object_type: string | null,
  category: Category,
  writes: boolean,
): Classification => ({ verb, object_type, category, writes });

/** Statements whose classification does not depend on their fields. */
const FIXED: Record<string, Classification> = {
  InsertStmt: c('insert', null, 'write', true),
  UpdateStmt: c('update', null, 'write', true),
  DeleteStmt: c('delete', null, 'write', true),
  MergeStmt: c('merge', null, 'write', true),
  CreateStmt: c('create', 'table', 'ddl', true),
  CreateForeignTableStmt: c('create', 'foreign_table', 'ddl', true),
  ImportForeignSchemaStmt: c('create', 'foreign_table', 'ddl', true),
  ViewStmt: c('create', 'view', 'ddl', true),
  IndexStmt: c('create', 'index', 'ddl', true),
  CreateSchemaStmt: c('create', 'schema', 'ddl', true),
  CreatedbStmt: c('create', 'database', 'ddl', true),
  AlterDatabaseStmt: c('alter', 'database', 'ddl', true),
  AlterDatabaseSetStmt: c('alter', 'database', 'ddl', true),
  AlterDatabaseRefreshCollStmt: c('alter', 'database', 'ddl', true),
  DropdbStmt: c('drop', 'database', 'ddl', true),
  AlterRoleStmt: c('alter', 'role', 'dcl', true),
  AlterRoleSetStmt: c('alter', 'role', 'dcl', true),
  DropRoleStmt: c('drop', 'role', 'dcl', true),
  CreateExtensionStmt: c('create', 'extension', 'ddl', true),
  AlterExtensionStmt: c('alter', 'extension', 'ddl', true),
  AlterExtensionContentsStmt: c('alter', 'extension', 'ddl', true),
  CreateForeignServerStmt: c('create', 'server', 'ddl', true),
  AlterForeignServerStmt: c('alter', 'server', 'ddl', true),
  CreateUserMappingStmt: c('create', 'user_mapping', 'ddl', true),
  AlterUserMappingStmt: c('alter', 'user_mapping', 'ddl', true),
  DropUserMappingStmt: c('drop', 'user_mapping', 'ddl', true),
  CreateFdwStmt: c('create', 'foreign_data_wrapper', 'ddl', true),
  AlterFdwStmt: c('alter', 'foreign_data_wrapper', 'ddl', true),
  CreateSubscriptionStmt: c('create', 'subscription', 'ddl', true),
  AlterSubscriptionStmt: c('alter', 'subscription', 'ddl', true),
  DropSubscriptionStmt: c('drop', 'subscription', 'ddl', true),
  CreatePublicationStmt: c('create', 'publication', 'ddl', true),
  AlterPublicationStmt: c('alter', 'publication', 'ddl', true),
  CreateTrigStmt: c('create', 'trigger', 'ddl', true),
  CreateEventTrigStmt: c('create', 'event_trigger', 'ddl', true),
  AlterEventTrigStmt: c('alter', 'event_trigger', 'ddl', true),
  RuleStmt: c('create', 'rule', 'ddl', true),
  CreatePolicyStmt: c('create', 'policy', 'dcl', true),
  AlterPolicyStmt: c('alter', 'policy', 'dcl', true),
  CreateSeqStmt: c('create', 'sequence', 'ddl', true),
  AlterSeqStmt: c('alter', 'sequence', 'ddl', true),
  CompositeTypeStmt: c('create', 'type', 'ddl', true),
  CreateEnumStmt: c('create', 'type', 'ddl', true),
  CreateRangeStmt: c('create', 'type', 'ddl', true),
  AlterEnumStmt: c('alter', 'type', 'ddl', true),
  AlterTypeStmt: c('alter', 'type', 'ddl', true),
  CreateDomainStmt: c('create', 'domain', 'ddl', true),
  AlterDomainStmt: c('alter', 'domain', 'ddl', true),
  CreatePLangStmt: c('create', 'language', 'ddl', true),
  CreateTableSpaceStmt: c('create', 'tablespace', 'ddl', true),
  DropTableSpaceStmt: c('drop', 'tablespace', 'ddl', true),
  AlterTableSpaceOptionsStmt: c('alter', 'tablespace', 'ddl', true),
  AlterTableMoveAllStmt: c('alter', 'tablespace', 'ddl', true),
  CreateCastStmt: c('create', 'cast', 'ddl', true),
  CreateOpClassStmt: c('create', 'operator_class', 'ddl', true),
  CreateOpFamilyStmt: c('create', 'operator_family', 'ddl', true),
  AlterOpFamilyStmt: c('alter', 'operator_family', 'ddl', true),
  AlterOperatorStmt: c('alter', 'operator', 'ddl', true),
  CreateConversionStmt: c('create', 'conversion', 'ddl', true),
  CreateTransformStmt: c('create', 'transform', 'ddl', true),
  CreateAmStmt: c('create', 'access_method', 'ddl', true),
  CreateStatsStmt: c('create', 'statistics', 'ddl', true),
  AlterStatsStmt: c('alter', 'statistics', 'ddl', true),
  AlterCollationStmt: c('alter', 'collation', 'ddl', true),
  AlterTSDictionaryStmt: c('alter', 'text_search_dictionary', 'ddl', true),
  AlterTSConfigurationStmt: c('alter', 'text_search_configuration', 'ddl', true),
  AlterSystemStmt: c('alter', 'system', 'ddl', true),
  AlterDefaultPrivilegesStmt: c('alter', 'default_privileges', 'dcl', true),
  DropOwnedStmt: c('drop', 'owned', 'dcl', true),
  ReassignOwnedStmt: c('reassign', 'owned', 'dcl', true),
  TruncateStmt: c('truncate', 'table', 'write', true),
  VariableShowStmt: c('show', null, 'session', false),
  DiscardStmt: c('discard', null, 'session', false),
  ConstraintsSetStmt: c('set', null, 'tcl', false),
  DoStmt: c('do', null, 'utility', true),
  ExplainStmt: c('explain', null, 'utility', false),
  PrepareStmt: c('prepare', null, 'utility', false),
  ExecuteStmt: c('execute', null, 'utility', false),
  DeallocateStmt: c('deallocate', null, 'session', false),
  CallStmt: c('call', null, 'utility', true),
  ListenStmt: c('listen', null, 'session', false),
  UnlistenStmt: c('unlisten', null, 'session', false),
  NotifyStmt: c('notify', null, 'utility', false),
  // LOCK takes table locks that can stop every other session: counted as a write.
  LockStmt: c('lock', 'table', 'utility', true),
  LoadStmt: c('load', null, 'utility', true),
  // Maintenance commands change storage or server state: counted as writes.
  CheckPointStmt: c('checkpoint', null, 'utility', true),
  ClusterStmt: c('cluster', 'table', 'utility', true),
  RefreshMatViewStmt: c('refresh', 'materialized_view', 'utility', true),
  DeclareCursorStmt: c('declare', 'cursor', 'read', false),
  ClosePortalStmt: c('close', 'cursor', 'session', false),
};

/** Unknown statements: fail closed. */
export const UNKNOWN: Classification = c('other', null, 'utility', true);

const TRANSACTION_VERBS: Record<string, string> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_SAVEPOINT: 'savepoint',
  TRANS_STMT_RELEASE: 'release',
  TRANS_STMT_ROLLBACK_TO: 'rollback',
  TRANS_STMT_PREPARE: 'prepare',
  TRANS_STMT_COMMIT_PREPARED: 'commit',
  TRANS_STMT_ROLLBACK_PREPARED: 'rollback',
};

/** ALTER TABLE subcommands that change privileges, ownership or row security. */
const DCL_ALTER_TABLE = new Set([
  'AT_ChangeOwner',
  'AT_EnableRowSecurity',
  'AT_DisableRowSecurity',
  'AT_ForceRowSecurity',
  'AT_NoForceRowSecurity',
]);

function alterTableIsDcl(body: PgNode): boolean {
  const cmds = body.cmds;
  if (!Array.isArray(cmds)) return false;
  for (const cmd of cmds) {
    const sub = (cmd as { AlterTableCmd?: { subtype?: string } }).AlterTableCmd?.subtype;
    if (sub && DCL_ALTER_TABLE.has(sub)) return true;
  }
  return false;
}

/** The classification of one statement node (type name and fields). */
export function classify(type: string, body: PgNode): Classification {
  const fixed = FIXED[type];
  if (fixed) return fixed;
  switch (type) {
    case 'SelectStmt':
      // SELECT ... INTO creates a table (it is CREATE TABLE AS).
      return body.intoClause ? c('create', 'table', 'ddl', true) : c('select', null, 'read', false);
    case 'CreateTableAsStmt':
      return c('create', objectName(body.objtype) ?? 'table', 'ddl', true);
    case 'CreateRoleStmt': {
      const kind = body.stmt_type === 'ROLESTMT_USER' ? 'user' : 'role';
      return c('create', body.stmt_type === 'ROLESTMT_GROUP' ? 'group' : kind, 'dcl', true);
    }
    case 'CreateFunctionStmt':
      return c('create', body.is_procedure ? 'procedure' : 'function', 'ddl', true);
    case 'AlterFunctionStmt':
      return c('alter', objectName(body.objtype) ?? 'function', 'ddl', true);
    case 'DefineStmt':
      return c('create', objectName(body.kind), 'ddl', true);
    case 'AlterTableStmt':
      return c(
        'alter',
        objectName(body.objtype) ?? 'table',
        alterTableIsDcl(body) ? 'dcl' : 'ddl',
        true,
      );
    case 'AlterOwnerStmt':
      return c('alter', objectName(body.objectType), 'dcl', true);
    case 'AlterObjectSchemaStmt':
      return c('alter', objectName(body.objectType), 'ddl', true);
    case 'AlterObjectDependsStmt':
      return c('alter', objectName(body.objectType), 'ddl', true);
    case 'RenameStmt': {
      const object = objectName(body.renameType);
      return c('alter', object, object === 'role' ? 'dcl' : 'ddl', true);
    }
    case 'DropStmt': {
      const object = objectName(body.removeType);
      return c('drop', object, 'ddl', true);
    }
    case 'GrantStmt':
      return c(body.is_grant ? 'grant' : 'revoke', objectName(body.objtype), 'dcl', true);
    case 'GrantRoleStmt':
      return c(body.is_grant ? 'grant' : 'revoke', 'role', 'dcl', true);
    case 'CommentStmt':
      return c('comment', objectName(body.objtype), 'ddl', true);
    case 'SecLabelStmt':
      return c('security_label', objectName(body.objtype), 'dcl', true);
    case 'VariableSetStmt':
      return c(
        body.kind === 'VAR_RESET' || body.kind === 'VAR_RESET_ALL' ? 'reset' : 'set',
        null,
        'session',
        false,
      );
    case 'TransactionStmt':
      return c(TRANSACTION_VERBS[String(body.kind)] ?? 'other', null, 'tcl', false);
    case 'CopyStmt':
      // COPY FROM writes the table; COPY TO a file or program writes on the server.
      return c(
        'copy',
        null,
        body.is_from ? 'write' : 'read',
        Boolean(body.is_from || body.filename !== undefined || body.is_program),
      );
    case 'VacuumStmt':
      return c(body.is_vacuumcmd ? 'vacuum' : 'analyze', 'table', 'utility', true);
    case 'ReindexStmt': {
      const kind = String(body.kind ?? '');
      const object = kind.startsWith('REINDEX_OBJECT_')
        ? kind.slice('REINDEX_OBJECT_'.length).toLowerCase()
        : null;
      return c('reindex', object, 'utility', true);
    }
    case 'FetchStmt':
      return c(body.ismove ? 'move' : 'fetch', 'cursor', 'read', false);
    default:
      return UNKNOWN;
  }
}
