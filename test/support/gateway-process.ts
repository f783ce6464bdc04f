import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import { buildBundle } from '../../bundle-builder/src/build.js';
import { PROJECT_ROOT } from '../../gateway/src/paths.js';
import { startTestIdp, type TestIdp } from './oidc-provider.js';
import { PolicyRepo } from './policy-repo.js';
import { freePort, PostgresServer, ROLES } from './postgres.js';
import { makeTlsFiles, type TlsFiles } from './tls.js';

export interface GatewayConfigOptions {
  idp: TestIdp;
  pg: PostgresServer;
  tls: TlsFiles;
  bundle: string;
  port: number;
  /** The environment variable holding the target's password (the SCRAM role's). */
  passwordEnv: string;
  workers?: number | 'auto';
  target?: string;
  targetTls?: 'disable' | 'require';
  /** Records root and signing key file; no recording when absent. */
  recording?: { directory: string; keyFile: string };
  decisionLog?: string;
  logLevel?: string;
}

/** A gateway configuration with one PostgreSQL endpoint and one target on `pg`, as YAML. */
export function gatewayConfig(o: GatewayConfigOptions): string {
  return `gateway: { workers: ${o.workers ?? 1} }
log: { level: ${o.logLevel ?? 'info'} }
identity: ${JSON.stringify(o.idp.identityConfig())}
admin: { listen: 'off' }
${o.recording ? `recording: { directory: ${o.recording.directory}, signing_key: { file: ${o.recording.keyFile} } }` : ''}
endpoints:
  - protocol: postgres
    listen: 127.0.0.1:${o.port}
    tls: { cert: { file: ${o.tls.certFile} }, key: { file: ${o.tls.keyFile} } }
targets:
  - name: ${o.target ?? 'app-db'}
    protocol: postgres
    address: 127.0.0.1:${o.pg.port}
    database: ${o.pg.database}
    tls: { mode: ${o.targetTls ?? 'disable'} }
    credentials: { username: ${ROLES.scram.user}, password: { env: ${o.passwordEnv} } }
policy:
  bundle: { path: ${o.bundle} }
  decision_logs: { destination: ${o.decisionLog ?? "'off'"} }
`;
}

export interface GatewayProcess {
  child: ChildProcess;
  /** Everything it wrote to stderr so far (its JSON logs). */
  logs(): string;
}

/** Runs `warden start --config <file>` and waits until `workers` processes say they are running. */
export async function startGatewayProcess(
  configFile: string,
  passwordEnv: string,
  workers = 1,
): Promise<GatewayProcess> {
  const child = spawn(
    'node',
    [join(PROJECT_ROOT, 'bin/warden.js'), 'start', '--config', configFile],
    {
      env: { ...process.env, [passwordEnv]: ROLES.scram.password },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let text = '';
  child.stderr!.on('data', (d) => {
    text += d;
  });
  const deadline = Date.now() + 60_000;
  while ((text.match(/warden [\d.]+ running/g) ?? []).length < workers) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the gateway did not start:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, logs: () => text };
}

export interface GatewayFixtures {
  pg: PostgresServer;
  idp: TestIdp;
  tls: TlsFiles;
  /** The default policy, built from a Git repository holding a copy of this checkout's policy. */
  bundle: string;
  port: number;
  /** A postgres.js client of the gateway's `app-db` target, as an agent with a fresh token. */
  agentClient(): Promise<postgres.Sql>;
  stop(): Promise<void>;
}

/** A real PostgreSQL, an OpenID Provider, TLS files, a policy bundle and a free port, in `dir`. */
export async function gatewayFixtures(dir: string): Promise<GatewayFixtures> {
  const repo = await PolicyRepo.create();
  try {
    const [pg, idp, tls, built, port] = await Promise.all([
      PostgresServer.start(),
      startTestIdp(),
      makeTlsFiles(dir, 'gateway'),
      buildBundle({ repo: repo.dir, ref: 'main', out: join(dir, 'bundle.tar.gz') }),
      freePort(),
    ]);
    return {
      pg,
      idp,
      tls,
      bundle: built.out,
      port,
      agentClient: async () =>
        postgres({
          host: '127.0.0.1',
          port,
          database: 'app-db',
          user: 'agent',
          password: await idp.agentToken(),
          ssl: { ca: tls.ca },
          max: 1,
          onnotice: () => {},
        }),
      stop: async () => {
        await idp.stop();
        await pg.stop();
      },
    };
  } finally {
    await repo.remove();
  }
}
