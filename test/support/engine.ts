import pino from 'pino';
import type { VerificationKey } from '../../gateway/src/policy/bundle-signature.js';
import { DecisionLog, type DecisionSink } from '../../gateway/src/policy/decision-log.js';
import { PolicyEngine } from '../../gateway/src/policy/engine.js';

/** A policy engine whose decision log lines are kept in memory for assertions. */
export function testEngine(verification: VerificationKey | null, erase: string[] = []) {
  const lines: string[] = [];
  const sink: DecisionSink = { write: (line: string) => lines.push(line) };
  const decisionLog = new DecisionLog(
    { destination: 'memory', erase, labels: { id: 'test' } },
    sink,
  );
  const engine = new PolicyEngine({ logger: pino({ level: 'silent' }), decisionLog, verification });
  return { engine, decisions: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
