import { randomUUID } from 'node:crypto';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { Logger } from 'pino';
import { messageOf, WardenError } from '../errors.js';
import { type Manifest, openBundle } from './bundle.js';
import type { BundleFiles } from './bundle-files.js';
import type { VerificationKey } from './bundle-signature.js';
import { type Decision, denial, interpretResult } from './decision.js';
import type { DecisionLog } from './decision-log.js';
import type { PolicyInput } from './input.js';
import { resultText, WasmEvaluator } from './wasm-evaluator.js';

export const DEFAULT_ENTRYPOINT = 'warden/decision';

/** A compiled revision, ready to evaluate. Never mutated after it is built. */
interface ActivePolicy {
  readonly revision: string;
  readonly manifest: Manifest;
  readonly evaluator: WasmEvaluator;
  readonly maskRules: readonly string[];
  readonly activatedAt: Date;
}

export interface EngineStatus {
  ready: boolean;
  revision: string | null;
  activatedAt: string | null;
  metadata: Record<string, unknown> | null;
  lastError: { at: string; origin: string; message: string } | null;
}

export interface PolicyEngineOptions {
  logger: Logger;
  decisionLog: DecisionLog;
  verification: VerificationKey | null;
  entrypoint?: string;
}

/**
 * Evaluates the active bundle's policy in-process. Activation compiles the
 * new revision aside and swaps one reference, so an evaluation always runs
 * entirely on one revision. A bad bundle never replaces a good one; with no
 * bundle at all, every decision is a deny.
 */
export class PolicyEngine {
  #active: ActivePolicy | null = null;
  #lastError: EngineStatus['lastError'] = null;
  readonly #options: PolicyEngineOptions;
  readonly #entrypoint: string;

  constructor(options: PolicyEngineOptions) {
    this.#options = options;
    this.#entrypoint = options.entrypoint ?? DEFAULT_ENTRYPOINT;
  }

  get revision(): string | null {
    return this.#active?.revision ?? null;
  }

  status(): EngineStatus {
    const a = this.#active;
    return {
      ready: a !== null,
      revision: a?.revision ?? null,
      activatedAt: a?.activatedAt.toISOString() ?? null,
      metadata: a ? a.manifest.metadata : null,
      lastError: this.#lastError,
    };
  }

  /**
   * Verifies, compiles and activates a bundle. On failure the active revision
   * stays, the reason is logged and kept in status(), and the error is thrown.
   */
  async activate(files: BundleFiles, origin: string): Promise<string> {
    try {
      const bundle = await openBundle(files, this.#entrypoint, this.#options.verification);
      if (bundle.manifest.revision === this.#active?.revision) return bundle.manifest.revision;
      const policy = await loadPolicy(bundle.wasm, { initial: 5, maximum: 4096 });
      const entrypoint = (policy.entrypoints as Record<string, number>)[this.#entrypoint];
      if (entrypoint === undefined) {
        throw new WardenError(
          'bundle.invalid',
          `policy.wasm does not export entrypoint ${this.#entrypoint}`,
        );
      }
      policy.setData(bundle.data);
      const evaluator = new WasmEvaluator(policy, entrypoint);
      const maskRules = maskRuleIds(bundle.data);
      const previous = this.#active?.revision ?? null;
      this.#active = {
        revision: bundle.manifest.revision,
        manifest: bundle.manifest,
        evaluator,
        maskRules,
        activatedAt: new Date(),
      };
      this.#lastError = null;
      this.#options.logger.info(
        { revision: bundle.manifest.revision, previous, origin },
        'policy bundle activated',
      );
      return bundle.manifest.revision;
    } catch (err) {
      const message = messageOf(err);
      this.#lastError = { at: new Date().toISOString(), origin, message };
      this.#options.logger.error(
        {
          origin,
          err: message,
          code: err instanceof WardenError ? err.code : 'bundle.invalid',
          keeping: this.revision,
        },
        'policy bundle rejected; keeping the last good revision',
      );
      throw err instanceof WardenError ? err : new WardenError('bundle.invalid', message);
    }
  }

  /** Asks the policy about one command. Never throws: any failure is a deny. */
  decide(input: PolicyInput): Decision {
    return this.decideJson(JSON.stringify(input));
  }

  /** As decide(), for an input already encoded (see SessionInputEncoder). */
  decideJson(inputJson: string): Decision {
    const id = randomUUID();
    const active = this.#active;
    let resultJson: string | null = null;
    let evalNs = 0;
    let outcome: ReturnType<typeof interpretResult>;
    if (!active) {
      outcome = denial('policy.unavailable', 'no valid policy bundle is loaded');
    } else {
      const started = process.hrtime.bigint();
      try {
        const resultSet = active.evaluator.evaluate(inputJson);
        const parsed = JSON.parse(resultSet) as { result: unknown }[];
        outcome = interpretResult(parsed[0]?.result, active.maskRules);
        if (parsed.length === 1) resultJson = resultText(resultSet);
      } catch (err) {
        outcome = denial('policy.evaluation', `policy evaluation failed: ${messageOf(err)}`);
      }
      evalNs = Number(process.hrtime.bigint() - started);
    }
    const revision = active?.revision ?? null;
    this.#options.decisionLog.write({
      decision_id: id,
      path: this.#entrypoint,
      inputJson,
      resultJson: resultJson ?? JSON.stringify(outcome),
      revision,
      timestamp: new Date().toISOString(),
      evalNs,
    });
    return { id, ...outcome, revision, evalNs };
  }
}

function maskRuleIds(data: Record<string, unknown>): string[] {
  const rules = (
    (data.warden as Record<string, unknown> | undefined)?.masking as { rules?: unknown } | undefined
  )?.rules;
  if (!Array.isArray(rules)) return [];
  return rules
    .map((r) => (r as { id?: unknown }).id)
    .filter((id): id is string => typeof id === 'string');
}
