/**
 * `warden sessions verify <dir...> --key <public.pem> [--json]`.
 * Exit status: 0 every record sealed and intact; 1 any record tampered (or
 * unreadable); 2 otherwise, when any is unsealed but intact.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WardenError } from '../errors.js';
import { publicKey } from './manifest.js';
import { type VerifyReport, verifyRecord } from './verify.js';

export const EXIT_SEALED = 0;
export const EXIT_TAMPERED = 1;
export const EXIT_UNSEALED = 2;

export function exitStatus(reports: readonly VerifyReport[]): number {
  if (reports.some((r) => r.status === 'tampered')) return EXIT_TAMPERED;
  if (reports.some((r) => r.status === 'unsealed')) return EXIT_UNSEALED;
  return EXIT_SEALED;
}

export function formatReport(r: VerifyReport): string {
  const head =
    r.status === 'sealed'
      ? `${r.dir}: sealed and intact (${r.events} events, session ${r.sessionId})`
      : r.status === 'unsealed'
        ? `${r.dir}: UNSEALED (the gateway stopped before sealing it) but intact: ${r.events} events chained${r.partialTail ? `; line ${r.partialTail.line} is a partial write of ${r.partialTail.bytes} bytes, not counted` : ''}`
        : `${r.dir}: TAMPERED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})`;
  const lines = [head];
  for (const p of r.problems)
    lines.push(
      `  ${p.kind}: ${p.file}${p.line === undefined ? '' : ` line ${p.line}`}: ${p.message}`,
    );
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export async function verifyRecords(
  dirs: readonly string[],
  keyPem: string,
): Promise<VerifyReport[]> {
  const reports: VerifyReport[] = [];
  for (const dir of dirs) reports.push(await verifyRecord(dir, keyPem));
  return reports;
}

export function registerSessionsCommands(program: Command): void {
  const sessions = program.command('sessions').description('session records');
  sessions
    .command('verify')
    .description(
      'verify session records: hash chain, seal and signature (exit 0 sealed, 1 tampered, 2 unsealed)',
    )
    .argument('<dir...>', 'record directories (<root>/<yyyy-mm-dd>/<session-id>)')
    .requiredOption('--key <public.pem>', "the gateway's record-signing public key (PEM)")
    .option('--json', 'print the reports as JSON')
    .action(async (dirs: string[], opts: { key: string; json?: boolean }) => {
      let pem: string;
      try {
        pem = readFileSync(opts.key, 'utf8');
      } catch (err) {
        throw new WardenError('record.key', `cannot read ${opts.key}: ${(err as Error).message}`);
      }
      publicKey(pem); // fails early on a key that is not Ed25519 or P-256
      const reports = await verifyRecords(dirs, pem);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(reports, null, 2)}\n`
          : `${reports.map(formatReport).join('\n')}\n`,
      );
      process.exitCode = exitStatus(reports);
    });
}
