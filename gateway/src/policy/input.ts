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

/**
 * Encodes policy inputs for one session. Identity, target and session do
 * not change between commands, so they are serialised once; each command
 * then costs one serialisation of its own part.
 */
export class SessionInputEncoder {
  readonly #prefix: string;

  constructor(identity: Identity, target: TargetRef, session: SessionRef) {
    this.#prefix = `{"identity":${JSON.stringify(identity)},"target":${JSON.stringify(target)},"session":${JSON.stringify(session)}`;
  }

  /** The input document as JSON text. `now.ns` is written exactly (milliseconds × 10⁶ as digits). */
  encode(command: Command, grants: readonly GrantRef[], at = Date.now()): string {
    const grantsJson = grants.length === 0 ? '[]' : JSON.stringify(grants);
    return `${this.#prefix},"command":${JSON.stringify(command)},"grants":${grantsJson},"now":{"rfc3339":"${new Date(at).toISOString()}","ns":${at}000000}}`;
  }
}
