import { cp, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { WardenError } from '../../gateway/src/errors.js';
import { type Checkout, type CommitInfo, checkout } from './git.js';
import { loadMaskingRules } from './masking-rules.js';
import { opa } from './opa-cli.js';

export interface BuildOptions {
  repo: string;
  ref: string;
  out: string;
  /** PEM private key file (RS*, PS*, ES*) or HMAC secret file (HS*). */
  signingKey?: string;
  signingAlg?: string;
  entrypoints?: string[];
  roots?: string[];
  policyDir?: string;
  testsDir?: string;
  maskingDir?: string;
  coverageThreshold?: number;
  logger?: Logger;
}

export interface BuildResult {
  revision: string;
  out: string;
  commit: CommitInfo;
  signed: boolean;
  rules: number;
}

function failure(step: string, output: { stdout: string; stderr: string }): WardenError {
  const text = `${output.stdout}\n${output.stderr}`.trim();
  return new WardenError('bundle.build', `${step} failed; no bundle was built\n${text}`, { step });
}

/**
 * Turns a policy repository at one commit into an OPA bundle: checks and
 * tests the Rego, compiles it to WebAssembly, bundles the masking rules as
 * data and stamps the commit as the revision. Refuses to build when any
 * check or test fails.
 */
export async function buildBundle(options: BuildOptions): Promise<BuildResult> {
  const entrypoints = options.entrypoints ?? ['warden/decision'];
  const policyDir = options.policyDir ?? 'policies/rego';
  const testsDir = options.testsDir ?? 'policies/tests';
  const threshold = options.coverageThreshold ?? 90;
  const log = options.logger;

  const co: Checkout = await checkout(options.repo, options.ref);
  const stage = await mkdtemp(join(tmpdir(), 'warden-bundle-'));
  try {
    log?.info({ repo: options.repo, ref: options.ref, revision: co.sha }, 'building bundle');
    const src = join(co.dir, policyDir);
    if (!(await stat(src).catch(() => null))?.isDirectory()) {
      throw new WardenError(
        'bundle.build',
        `${policyDir} not found in ${options.repo} at ${co.sha}`,
      );
    }
    const rules = await loadMaskingRules(
      join(co.dir, options.maskingDir ?? 'masking-rules'),
      options.maskingDir ?? 'masking-rules',
    );
    const tests = (await stat(join(co.dir, testsDir)).catch(() => null)) ? [testsDir] : [];

    const checks: [string, string[]][] = [
      ['opa fmt', ['fmt', '--list', '--fail', policyDir, ...tests]],
      ['opa check', ['check', '--strict', policyDir, ...tests]],
      ['opa test', ['test', '--fail-on-empty', policyDir, ...tests]],
      [
        'opa test coverage',
        [
          'test',
          '--fail-on-empty',
          '--coverage',
          '--threshold',
          String(threshold),
          policyDir,
          ...tests,
        ],
      ],
    ];
    for (const [step, args] of checks) {
      const result = await opa(args, co.dir);
      if (!result.ok)
        throw failure(step, step === 'opa test coverage' ? coverageSummary(result) : result);
    }

    await cp(src, stage, { recursive: true, filter: (from) => !from.endsWith('_test.rego') });
    await writeFile(join(stage, 'data.json'), JSON.stringify({ warden: { masking: { rules } } }));
    const manifest = {
      revision: co.sha,
      roots: options.roots ?? ['warden'],
      metadata: {
        commit: { sha: co.sha, author: co.author, time: co.time, subject: co.subject },
        source: { repo: options.repo, ref: options.ref },
        built_by: 'warden bundle build',
      },
    };
    await writeFile(join(stage, '.manifest'), JSON.stringify(manifest));

    const out = resolve(options.out);
    await mkdir(dirname(out), { recursive: true });
    const partial = `${out}.partial-${process.pid}`;
    const args = [
      'build',
      '-t',
      'wasm',
      ...entrypoints.flatMap((e) => ['-e', e]),
      '-b',
      '.',
      '-o',
      partial,
    ];
    if (options.signingKey)
      args.push(
        '--signing-key',
        resolve(options.signingKey),
        '--signing-alg',
        options.signingAlg ?? 'RS256',
      );
    const built = await opa(args, stage);
    if (!built.ok) throw failure('opa build', built);
    await rename(partial, out);
    log?.info({ revision: co.sha, out, signed: !!options.signingKey }, 'bundle built');
    return { revision: co.sha, out, commit: co, signed: !!options.signingKey, rules: rules.length };
  } finally {
    await rm(stage, { recursive: true, force: true });
    await co.remove();
  }
}

function coverageSummary(result: { stdout: string; stderr: string }): {
  stdout: string;
  stderr: string;
} {
  try {
    const report = JSON.parse(result.stdout) as { coverage?: number };
    return {
      stdout: `coverage ${report.coverage?.toFixed(1)}% is below the threshold`,
      stderr: result.stderr,
    };
  } catch {
    return result;
  }
}
