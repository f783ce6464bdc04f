import { type KeyObject, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { readSecret } from '../config/load.js';
import type { TargetConfig } from '../config/schema.js';
import { messageOf, WardenError } from '../errors.js';
import { hostPort } from '../host-port.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { Command } from '../policy/input.js';
import { SessionInputEncoder } from '../policy/input.js';
import { SessionRecordWriter } from '../recording/writer.js';
import { verdictMessage } from './messages.js';
import type {
  ClientInfo,
  CommandOutcome,
  Core,
  CoreSession,
  Principal,
  ResolvedTarget,
  TokenVerifier,
  Verdict,
} from './types.js';

/** Where and how sessions are recorded; null records nothing. */
export interface RecordingOptions {
  root: string;
  key: KeyObject;
  fsyncIntervalMs: number;
  gatewayId: string;
}

export interface CoreOptions {
  engine: PolicyEngine;
  recording: RecordingOptions | null;
  verifier: TokenVerifier;
  targets: TargetConfig[];
  logger: Logger;
  /** What happens when a session's token expires: refuse new commands, or also close the session. */
  onTokenExpiry: 'close' | 'reauthenticate';
}

/** Identity, targets and policy for every protocol adapter. */
export class GatewayCore implements Core {
  readonly #o: CoreOptions;
  readonly #targets: Map<string, TargetConfig>;

  constructor(options: CoreOptions) {
    this.#o = options;
    this.#targets = new Map(options.targets.map((t) => [t.name, t]));
  }

  authenticate(token: string, _client: ClientInfo): Promise<Principal> {
    return this.#o.verifier.verify(token);
  }

  async openSession(
    principal: Principal,
    targetName: string,
    client: ClientInfo,
  ): Promise<CoreSession> {
    const config = this.#targets.get(targetName);
    if (!config || config.protocol !== client.protocol) {
      throw new WardenError(
        'target.not_found',
        `no ${client.protocol} target named "${targetName}"`,
      );
    }
    const allowed = config.allowed_groups;
    if (allowed && !principal.identity.groups.some((g) => allowed.includes(g))) {
      throw new WardenError('target.forbidden', `you may not use the target "${targetName}"`);
    }
    const target = await resolveTarget(config);
    const session = new Session(principal, target, client, this.#o);
    session.startRecording();
    this.#o.logger.info(
      {
        session: session.id,
        subject: principal.identity.subject,
        kind: principal.identity.kind,
        target: target.name,
        client: client.address,
      },
      'session opened',
    );
    return session;
  }
}

/** Reads the target's secrets now, so a rotated credential is used by every new session. */
async function resolveTarget(t: TargetConfig): Promise<ResolvedTarget> {
  const { host, port } = hostPort(t.address);
  return {
    name: t.name,
    protocol: t.protocol,
    labels: t.labels,
    host,
    port,
    database: t.database ?? null,
    username: t.credentials.username,
    password: t.credentials.password
      ? await readSecret(t.credentials.password, `targets.${t.name}.credentials.password`)
      : null,
    tls: {
      mode: t.tls.mode,
      ca: t.tls.ca ? await readSecret(t.tls.ca, `targets.${t.name}.tls.ca`) : null,
      servername: t.tls.servername ?? null,
    },
    connectTimeoutMs: t.connect_timeout_seconds * 1000,
  };
}

class Session implements CoreSession {
  readonly id = randomUUID();
  readonly target: ResolvedTarget;
  readonly #principal: Principal;
  readonly #encoder: SessionInputEncoder;
  readonly #o: CoreOptions;
  readonly #client: ClientInfo;
  #record: SessionRecordWriter | null = null;
  #closed = false;
  #commands = 0;
  #denied = 0;

  constructor(
    principal: Principal,
    target: ResolvedTarget,
    client: ClientInfo,
    options: CoreOptions,
  ) {
    this.target = target;
    this.#principal = principal;
    this.#client = client;
    this.#o = options;
    this.#encoder = new SessionInputEncoder(
      principal.identity,
      { name: target.name, protocol: target.protocol, labels: target.labels },
      { id: this.id, client_address: client.address, started: new Date().toISOString() },
    );
  }

  /** Opens the session's record; a gateway that cannot record refuses the session. */
  startRecording(): void {
    const r = this.#o.recording;
    if (!r) return;
    try {
      this.#record = SessionRecordWriter.open({
        root: r.root,
        sessionId: this.id,
        identity: this.#principal.identity,
        target: this.target,
        client: this.#client,
        gateway: { id: r.gatewayId },
        revisions: this.#o.engine.revision ? [this.#o.engine.revision] : [],
        fsyncIntervalMs: r.fsyncIntervalMs,
        onError: (err) =>
          this.#o.logger.error({ session: this.id, err: err.message }, 'session record failed'),
      });
    } catch (err) {
      this.#o.logger.error(
        { session: this.id, err: messageOf(err) },
        'cannot open a session record',
      );
      throw new WardenError('record.unavailable', 'the gateway cannot record sessions right now');
    }
  }

  decide(command: Command): Verdict {
    this.#commands++;
    const verdict = this.#record
      ? this.#recorded(command, this.#judge(command))
      : this.#judge(command);
    if (verdict.action !== 'allow') this.#denied++;
    return verdict;
  }

  #judge(command: Command): Verdict {
    const now = Date.now();
    const expiresAt = this.#principal.expiresAt;
    if (expiresAt !== null && now >= expiresAt) {
      const message = 'your access token has expired; reconnect with a fresh token';
      return {
        action: 'deny',
        decisionId: randomUUID(),
        reasons: [{ code: 'identity.expired', message }],
        message,
        maskRules: [],
        endSession: this.#o.onTokenExpiry === 'close',
        revision: null,
        ref: null,
      };
    }
    const decision = this.#o.engine.decideJson(this.#encoder.encode(command, [], now));
    return {
      action: decision.action,
      decisionId: decision.id,
      reasons: decision.reasons,
      message: decision.action === 'allow' ? '' : verdictMessage(decision),
      maskRules: decision.mask.rules,
      endSession: false,
      revision: decision.revision,
      ref: null,
    };
  }

  /** Writes the command and its decision before the adapter acts; what cannot be recorded is refused. */
  #recorded(command: Command, verdict: Verdict): Verdict {
    try {
      verdict.ref = this.#record!.command(command);
      this.#record!.decision(verdict.ref, {
        id: verdict.decisionId,
        action: verdict.action,
        reasons: verdict.reasons,
        revision: verdict.revision,
        maskRules: verdict.maskRules,
      });
      return verdict;
    } catch (err) {
      this.#o.logger.error(
        { session: this.id, err: messageOf(err) },
        'cannot record a command: refusing it',
      );
      const message = 'the gateway cannot record this command, so it was not run';
      return {
        ...verdict,
        action: 'deny',
        reasons: [{ code: 'record.unavailable', message }],
        message,
        maskRules: [],
        ref: null,
      };
    }
  }

  completed(ref: number, outcome: CommandOutcome): void {
    try {
      this.#record?.result(ref, {
        durationMs: Math.round(outcome.durationMs * 1000) / 1000,
        rows: outcome.rows,
        affected: outcome.affected,
        error: outcome.errorCode ? { code: outcome.errorCode, message: '' } : null,
      });
    } catch (err) {
      // The command already ran; the writer is now failed, so the next command is refused.
      this.#o.logger.error(
        { session: this.id, err: messageOf(err) },
        'cannot record a command result',
      );
    }
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const record = this.#record;
    const key = this.#o.recording?.key;
    if (record && key) {
      record
        .seal(key, { reason })
        .catch((err: unknown) =>
          this.#o.logger.error(
            { session: this.id, err: messageOf(err) },
            'cannot seal the session record',
          ),
        );
    }
    this.#o.logger.info(
      {
        session: this.id,
        target: this.target.name,
        commands: this.#commands,
        denied: this.#denied,
        reason,
      },
      'session closed',
    );
  }
}
