/**
 * `warden sessions verify <dir...> --key <public.pem> [--json]`, and
 * `warden sessions list | show | export` over a records root.
 * verify exits 0 when every record is sealed and intact, 1 when any is tampered (or
 * unreadable); 2 otherwise, when any is unsealed but intact.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Command } from 'commander';
import { pack as tarPack } from 'tar-stream';
import { loadConfig } from '../config/load.js';
import { WardenError } from '../errors.js';
import { findSessions, readEvents, recordDirectories, type SessionFilter } from './catalog.js';
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

  const where = (cmd: Command) =>
    cmd
      .option('--root <dir>', 'records root (the recording.directory setting)')
      .option('-c, --config <file>', 'take the records root from this configuration');

  where(
    sessions
      .command('list')
      .description('list session records, filtered; newest last')
      .option('--subject <subject>', 'only this identity')
      .option('--target <name>', 'only this target')
      .option('--since <time>', 'started at or after (ISO 8601)')
      .option('--until <time>', 'started before (ISO 8601)')
      .option('--decision <action>', 'with at least one allow, deny or review decision')
      .option('--text <text>', 'with a command containing this text')
      .option('--json', 'print JSON'),
  ).action(async (opts: SessionFilter & { root?: string; config?: string; json?: boolean }) => {
    if (opts.decision && !['allow', 'deny', 'review'].includes(opts.decision)) {
      throw new WardenError('config.invalid', '--decision: expected allow, deny or review');
    }
    const found = await findSessions(await recordsRoot(opts), opts);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
      return;
    }
    for (const s of found) {
      process.stdout.write(
        `${s.started}  ${s.id}  ${s.subject} (${s.kind}) -> ${s.target}  commands ${s.commands}, ` +
          `denied ${s.denied}, review ${s.review}, errors ${s.errors}  ${s.sealed ? 'sealed' : 'unsealed'}\n`,
      );
    }
  });

  where(
    sessions
      .command('show')
      .description("print one session's events (JSON lines)")
      .argument('<session-id>'),
  ).action(async (id: string, opts: { root?: string; config?: string }) => {
    const dir = await recordOf(await recordsRoot(opts), id);
    for await (const e of readEvents(dir)) process.stdout.write(`${JSON.stringify(e)}\n`);
  });

  where(
    sessions
      .command('export')
      .description('write one session record (every file, manifest included) as a .tar.gz')
      .argument('<session-id>')
      .requiredOption('--out <file>', 'the archive to write'),
  ).action(async (id: string, opts: { root?: string; config?: string; out: string }) => {
    const dir = await recordOf(await recordsRoot(opts), id);
    const pack = tarPack();
    for (const name of (await readdir(dir)).sort()) {
      pack.entry({ name: `${id}/${name}` }, await readFile(join(dir, name)));
    }
    pack.finalize();
    await pipeline(pack, createGzip(), createWriteStream(opts.out));
    process.stdout.write(`${opts.out}\n`);
  });
}

async function recordsRoot(opts: { root?: string; config?: string }): Promise<string> {
  if (opts.root) return opts.root;
  if (opts.config) {
    const directory = (await loadConfig(opts.config)).recording?.directory;
    if (directory) return directory;
    throw new WardenError('config.invalid', `${opts.config}: recording: not configured`);
  }
  throw new WardenError('config.invalid', 'give --root <dir> or --config <file>');
}

async function recordOf(root: string, id: string): Promise<string> {
  const dir = (await recordDirectories(root)).find((d) => basename(d) === id);
  if (!dir) throw new WardenError('record.invalid', `no record of session ${id} under ${root}`);
  return dir;
}
