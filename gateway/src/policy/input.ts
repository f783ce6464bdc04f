/** The policy input contract: docs/policy-contract.md. */

export interface Identity {
  subject: string;
  groups: string[];
  kind: 'agent' | 'human';
  issuer: string;
}

export interface TargetRef {
  name: string;
  protocol: string;
  labels: Record<string, string>;
}

export interface SessionRef {
  id: string;
  client_address: string;
  started: string;
}

export interface SqlTable {
  schema: string | null;
  name: string;
  qualified: string;
  access: 'read' | 'write';
}

export interface SqlStatement {
  index: number;
  node: string;
  verb: string;
  object_type: string | null;
  category: 'read' | 'write' | 'ddl' | 'dcl' | 'tcl' | 'session' | 'utility';
  writes: boolean;
  dml: { verb: string; table: string; has_where: boolean }[];
  tables: SqlTable[];
  functions: string[];
  settings: string[];
  copy?: { direction: 'to' | 'from'; program: boolean; file: boolean };
  language?: string;
  prepared_unknown?: boolean;
  fingerprint: string;
  text: string;
}

export interface ShellCommand {
  interactive: boolean;
  commands: { program: string; args: string[] }[];
  parse_error?: string;
}

export interface Command {
  raw: string;
  fingerprint: string;
  actions: string[];
  objects: string[];
  sql?: { dialect: string; statements: SqlStatement[]; parse_error?: string };
  shell?: ShellCommand;
}

export type GrantScope =
  | { kind: 'target' }
  | { kind: 'fingerprint' | 'once'; fingerprints: string[] }
  | { kind: 'statement'; verbs: string[]; tables: string[] };

export interface GrantRef {
  id: string;
  expires_ns: number;
  scope: GrantScope;
}

export interface PolicyInput {
  identity: Identity;
  target: TargetRef;
  session: SessionRef;
  command: Command;
  grants: GrantRef[];
  now: { rfc3339: string; ns: number };
}

export function clock(at = Date.now()): PolicyInput['now'] {
  return { rfc3339: new Date(at).toISOString(), ns: at * 1_000_000 };
}
