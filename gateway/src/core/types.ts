import type { Action, Reason } from '../policy/decision.js';
import type { Command, Identity } from '../policy/input.js';

/** Who is on the other end of a client connection. */
export interface ClientInfo {
  address: string;
  protocol: string;
  tls: boolean;
  /** The user name the client gave, kept for the record only: identity comes from the token. */
  user: string | null;
}

/** A verified identity and until when its token is good (epoch ms; null: no expiry). */
export interface Principal {
  identity: Identity;
  expiresAt: number | null;
}

/** Verifies a client's access token. Throws a WardenError with an `identity.*` code. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** The core's answer about one command, in protocol-neutral terms. */
export interface Verdict {
  action: Action;
  decisionId: string;
  reasons: Reason[];
  /** One line for the client: the reasons and the decision id. */
  message: string;
  /** Masking rule ids that apply to the results. */
  maskRules: string[];
  /** The session must end (its token expired and the configuration says close). */
  endSession: boolean;
  /** The policy revision (bundle commit) that decided; null when no policy was consulted. */
  revision: string | null;
  /** The recorded command, for reporting its outcome with completed(); null when not recorded. */
  ref: number | null;
}

/** How an allowed command went, as the target answered it. */
export interface CommandOutcome {
  durationMs: number;
  rows: number | null;
  affected: number | null;
  /** The protocol's error code (SQLSTATE for SQL); messages are not recorded, as they can quote values. */
  errorCode: string | null;
}

/** What a protocol adapter may ask of the core. The core knows no protocol. */
export interface Core {
  authenticate(token: string, client: ClientInfo): Promise<Principal>;
  /** Opens a session on a target; throws a WardenError (`target.*`) when it is unknown or not allowed. */
  openSession(principal: Principal, targetName: string, client: ClientInfo): Promise<CoreSession>;
}

export interface CoreSession {
  readonly id: string;
  readonly target: ResolvedTarget;
  /** Judges one command. Never throws: failures are denials. */
  decide(command: Command): Verdict;
  /** Records how an allowed command went (its verdict's ref). Never throws. */
  completed(ref: number, outcome: CommandOutcome): void;
  /** Ends the session; idempotent. */
  close(reason: string): void;
}

/** A target with its credentials read at session start (so rotation applies to new sessions). */
export interface ResolvedTarget {
  name: string;
  protocol: string;
  labels: Record<string, string>;
  host: string;
  port: number;
  database: string | null;
  username: string;
  password: string | null;
  tls: {
    mode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
    ca: string | null;
    servername: string | null;
  };
  connectTimeoutMs: number;
}
