import cluster from 'node:cluster';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import pino from 'pino';
import { buildBundle } from '../../bundle-builder/src/build.js';
import { BundleServer } from '../../bundle-builder/src/server.js';
import { BundleWatch } from '../../bundle-builder/src/watch.js';
import { runPrimary, workerCount } from './cluster.js';
import { loadConfig } from './config/load.js';
import { devToken } from './dev/token.js';
import { startDevEnvironment } from './dev.js';
import { WardenError } from './errors.js';
import { hostPort } from './host-port.js';
import { createLogger } from './log.js';
import { readBundlePath } from './policy/bundle-files.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './policy/bundle-signature.js';
import { DecisionLog } from './policy/decision-log.js';
import { PolicyEngine } from './policy/engine.js';
import { clock, type PolicyInput } from './policy/input.js';
import { registerSessionsCommands } from './recording/cli.js';
import { type Gateway, startGateway, VERSION } from './server.js';

const algorithmOption = () =>
  new Option('--signing-alg <alg>', 'signature algorithm')
    .choices(SIGNING_ALGORITHMS)
    .default('RS256');

function onShutdown(close: () => Promise<void>): void {
  const stop = () => void close().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('warden')
    .version(VERSION)
    .description('Policy-as-code access gateway');

  program
    .command('start')
    .description('run the gateway')
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('--dev', 'run with embedded defaults: the default policy built from this repository')
    .action(async (opts: { config?: string; dev?: boolean }) => {
      if (!opts.config && !opts.dev)
        throw new WardenError('config.invalid', 'give --config <file> or --dev');
      const bootLogger = createLogger('info');
      const dev = opts.config ? null : await startDevEnvironment(bootLogger);
      const config = dev ? dev.config : await loadConfig(opts.config!);
      const logger = createLogger(config.log.level);
      const workers = workerCount(config.gateway.workers);
      if (workers > 1 && cluster.isPrimary) {
        runPrimary(workers, logger);
        return;
      }
      let gateway: Gateway;
      try {
        gateway = await startGateway(config, logger);
      } catch (err) {
        await dev?.close();
        if (dev && (err as NodeJS.ErrnoException).code === 'EADDRINUSE')
          throw new WardenError(
            'config.invalid',
            `${(err as Error).message} (set WARDEN_DEV_PG_PORT or WARDEN_DEV_ADMIN_PORT to use other ports)`,
          );
        throw err;
      }
      onShutdown(async () => {
        await gateway.close();
        await dev?.close();
      });
      const status = gateway.engine.status();
      process.stderr.write(
        `warden ${VERSION} running: policy revision ${status.revision ?? '(none: denying everything)'}; ` +
          `admin API ${gateway.adminUrl ?? 'off'}; decision log ${config.policy.decision_logs.destination}\n`,
      );
      if (dev) process.stdout.write(await dev.ready(process.pid));
    });

  program
    .command('dev')
    .description('the development demo started by `npm start` (warden start --dev)')
    .command('token')
    .description("print an access token from the running demo's development token issuer")
    .option('--human', "a human's token (demo-human, groups engineers) instead of the agent's")
    .action(async (opts: { human?: boolean }) => {
      process.stdout.write(`${await devToken(opts.human ? 'human' : 'agent')}\n`);
    });

  const config = program.command('config').description('configuration tools');
  config
    .command('check <file>')
    .description('validate a configuration file')
    .action(async (file: string) => {
      await loadConfig(file);
      process.stdout.write(`${file}: valid\n`);
    });

  const bundle = program.command('bundle').description('build and serve policy bundles');
  bundle
    .command('build')
    .description('test a policy repository at a ref and build a signed WebAssembly bundle from it')
    .requiredOption('--repo <path|url>', 'policy repository (local path or Git URL)')
    .requiredOption('--ref <ref>', 'branch, tag or commit SHA')
    .requiredOption('--out <file>', 'bundle file to write (.tar.gz)')
    .option('--signing-key <file>', 'PEM private key (or HMAC secret file) to sign the bundle with')
    .addOption(algorithmOption())
    .option('--entrypoint <path...>', 'policy entrypoints', ['warden/decision'])
    .option('--coverage-threshold <percent>', 'minimum Rego test coverage', '90')
    .action(async (opts) => {
      const logger = createLogger('info');
      const result = await buildBundle({
        repo: opts.repo,
        ref: opts.ref,
        out: opts.out,
        signingKey: opts.signingKey,
        signingAlg: opts.signingAlg,
        entrypoints: opts.entrypoint,
        coverageThreshold: Number(opts.coverageThreshold),
        logger,
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });

  bundle
    .command('serve')
    .description('serve bundles over the OPA bundle protocol; optionally rebuild on new commits')
    .requiredOption('--dir <dir>', 'directory of <name>.tar.gz bundles')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8182')
    .option(
      '--watch-repo <path|url>',
      'rebuild from this repository when --watch-ref gains a commit',
    )
    .option('--watch-ref <branch>', 'branch to watch', 'main')
    .option('--name <name>', 'bundle name for the watched repository', 'default')
    .option('--poll-seconds <n>', 'how often to look for new commits', '30')
    .option(
      '--webhook-secret-env <VAR>',
      'accept GitHub push webhooks signed with the secret in this variable',
    )
    .option('--signing-key <file>', 'sign rebuilt bundles with this key')
    .addOption(algorithmOption())
    .action(async (opts) => {
      const logger = createLogger('info');
      let watch: BundleWatch | null = null;
      const secret = opts.webhookSecretEnv ? process.env[opts.webhookSecretEnv] : undefined;
      if (opts.webhookSecretEnv && !secret) {
        throw new WardenError(
          'config.secret_unavailable',
          `environment variable ${opts.webhookSecretEnv} is not set`,
        );
      }
      const server = new BundleServer({
        dir: resolve(opts.dir),
        logger,
        ...(secret
          ? { webhook: { secret, onPush: (ref) => ref === opts.watchRef && void watch?.check() } }
          : {}),
      });
      if (opts.watchRepo) {
        watch = new BundleWatch({
          repo: opts.watchRepo,
          ref: opts.watchRef,
          name: opts.name,
          dir: resolve(opts.dir),
          pollSeconds: Number(opts.pollSeconds),
          signingKey: opts.signingKey,
          signingAlg: opts.signingAlg,
          logger,
          publish: (name, bytes) => server.publish(name, bytes),
        });
        await watch.start();
      }
      const { host, port } = hostPort(String(opts.listen));
      const url = await server.app.listen({ host, port });
      process.stderr.write(`serving bundles from ${opts.dir} at ${url}/bundles/<name>\n`);
      onShutdown(async () => {
        await watch?.stop();
        await server.app.close();
      });
    });

  registerSessionsCommands(program);

  const policy = program.command('policy').description('policy tools');
  policy
    .command('eval')
    .description('evaluate a bundle against an input document and print the decision')
    .requiredOption('--bundle <file|dir>', 'bundle .tar.gz or directory')
    .requiredOption('--input <file>', 'input JSON (see docs/policy-contract.md); - for stdin')
    .option(
      '--verification-key <file>',
      'verify the bundle signature with this public key (or HMAC secret file)',
    )
    .addOption(algorithmOption())
    .action(async (opts) => {
      const text = opts.input === '-' ? await readStdin() : await readFile(opts.input, 'utf8');
      const input = JSON.parse(text) as PolicyInput;
      input.now ??= clock();
      const verification = opts.verificationKey
        ? {
            key: await readFile(opts.verificationKey, 'utf8'),
            algorithm: opts.signingAlg as SigningAlgorithm,
            scope: '',
          }
        : null;
      const engine = new PolicyEngine({
        logger: pino({ level: 'silent' }),
        decisionLog: new DecisionLog({ destination: 'off', erase: [], labels: {} }),
        verification,
      });
      await engine.activate(await readBundlePath(opts.bundle), opts.bundle);
      const decision = engine.decide(input);
      process.stdout.write(`${JSON.stringify(decision, null, 2)}\n`);
      if (decision.action !== 'allow') process.exitCode = decision.action === 'deny' ? 3 : 4;
    });

  await program.parseAsync(argv);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
