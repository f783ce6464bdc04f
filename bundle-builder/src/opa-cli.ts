import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WardenError } from '../../gateway/src/errors.js';
import { PROJECT_ROOT } from '../../gateway/src/paths.js';

const run = promisify(execFile);
const OPA_SCRIPT = join(PROJECT_ROOT, 'scripts', 'opa.sh');

let resolved: Promise<string> | null = null;

/** The pinned OPA binary (scripts/opa.sh finds it or builds it once). */
export function opaPath(): Promise<string> {
  resolved ??= run('bash', [OPA_SCRIPT, '--path'], { maxBuffer: 1 << 20 }).then(
    ({ stdout }) => stdout.trim(),
    (err: { stderr?: string; message: string }) => {
      resolved = null;
      throw new WardenError('opa.unavailable', (err.stderr || err.message).trim());
    },
  );
  return resolved;
}

export interface OpaResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs `opa args...` in `cwd`; a non-zero exit is a result, not an exception. */
export async function opa(args: string[], cwd: string): Promise<OpaResult> {
  const bin = await opaPath();
  try {
    const { stdout, stderr } = await run(bin, args, { cwd, maxBuffer: 64 << 20 });
    return { ok: true, stdout, stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string; code?: unknown };
    if (typeof e.code !== 'number')
      throw new WardenError('opa.unavailable', `could not run opa: ${e.message}`);
    return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
