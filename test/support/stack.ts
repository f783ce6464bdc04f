import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildBundle } from '../../bundle-builder/src/build.js';
import { parseConfig } from '../../gateway/src/config/load.js';
import { type Gateway, startGateway } from '../../gateway/src/server.js';
import { startTestIdp, type TestIdp } from './oidc-provider.js';
import { PolicyRepo } from './policy-repo.js';
import { PostgresServer, ROLES } from './postgres.js';
import { makeTlsFiles, type TlsFiles } from './tls.js';

export const PASSWORD_ENV = 'WARDEN_TEST_PG_PASSWORD';
export const MD5_PASSWORD_ENV = 'WARDEN_TEST_PG_MD5_PASSWORD';

/**
 * Everything a PostgreSQL endpoint test needs, all real: a PostgreSQL server
 * (TLS, SCRAM and md5 roles), an OpenID Provider, the default policy built
 * from a Git repository into a bundle, and the gateway configured from YAML.
 *
 * Targets: `app-db` (staging, SCRAM, upstream TLS verify-full), `prod-db`
 * (production, md5, TLS require) and `dba-db` (only for the `dba` group).
 */
export class Stack {
  private constructor(
    readonly dir: string,
    readonly pg: PostgresServer,
    readonly idp: TestIdp,
    readonly tls: TlsFiles,
    readonly gateway: Gateway,
    readonly decisionLog: string,
    /** Every line the gateway logged (JSON). */
    readonly logLines: string[],
    /** Verifies the session records (PEM). */
    readonly recordPublicKey: string,
  ) {}

  /** Every session record directory written so far. */
  async recordDirs(): Promise<string[]> {
    const root = join(this.dir, 'sessions');
    const days = await readdir(root).catch(() => [] as string[]);
    const dirs: string[] = [];
    for (const day of days)
      for (const id of await readdir(join(root, day))) dirs.push(join(root, day, id));
    return dirs;
  }

  static async start(): Promise<Stack> {
    const dir = await mkdtemp(join(tmpdir(), 'warden-stack-'));
    const [pg, idp, tls, bundle] = await Promise.all([
      PostgresServer.start({ tls: true }),
      startTestIdp(),
      makeTlsFiles(dir, 'gateway'),
      (async () => {
        const repo = await PolicyRepo.create();
        try {
          return (
            await buildBundle({ repo: repo.dir, ref: 'main', out: join(dir, 'bundle.tar.gz') })
          ).out;
        } finally {
          await repo.remove();
        }
      })(),
    ]);
    await pg.sql(
      `CREATE TABLE accounts (id int PRIMARY KEY, email text, balance int);
       INSERT INTO accounts SELECT g, 'user' || g || '@example.com', g * 10 FROM generate_series(1, 100) g;
       ALTER TABLE accounts OWNER TO ${ROLES.scram.user};
       GRANT ALL ON accounts TO ${ROLES.md5.user};`,
      pg.database,
    );
    await writeFile(join(dir, 'pg-ca.crt'), pg.ca!);
    const recordKey = generateKeyPairSync('ed25519');
    await writeFile(
      join(dir, 'record-signing.pem'),
      recordKey.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    process.env[PASSWORD_ENV] = ROLES.scram.password;
    process.env[MD5_PASSWORD_ENV] = ROLES.md5.password;
    const decisionLog = join(dir, 'decisions.log');
    const yaml = `
identity: ${JSON.stringify(idp.identityConfig())}
endpoints:
  - protocol: postgres
    listen: 127.0.0.1:0
    tls: { cert: { file: ${tls.certFile} }, key: { file: ${tls.keyFile} } }
targets:
  - name: app-db
    protocol: postgres
    address: 127.0.0.1:${pg.port}
    database: ${pg.database}
    labels: { environment: staging }
    tls: { mode: verify-full, ca: { file: ${join(dir, 'pg-ca.crt')} } }
    credentials: { username: ${ROLES.scram.user}, password: { env: ${PASSWORD_ENV} } }
  - name: prod-db
    protocol: postgres
    address: 127.0.0.1:${pg.port}
    database: ${pg.database}
    labels: { environment: production }
    tls: { mode: require }
    credentials: { username: ${ROLES.md5.user}, password: { env: ${MD5_PASSWORD_ENV} } }
  - name: dba-db
    protocol: postgres
    address: 127.0.0.1:${pg.port}
    database: ${pg.database}
    allowed_groups: [dba]
    tls: { mode: require }
    credentials: { username: ${ROLES.scram.user}, password: { env: ${PASSWORD_ENV} } }
admin: { listen: 'off' }
recording:
  directory: ${join(dir, 'sessions')}
  signing_key: { file: ${join(dir, 'record-signing.pem')} }
policy:
  bundle: { path: ${bundle} }
  decision_logs: { destination: ${decisionLog} }
`;
    const config = parseConfig(yaml, 'stack.yaml', dir);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const gateway = await startGateway(config, pino({ level: 'debug' }, sink));
    const recordPublicKey = recordKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return new Stack(dir, pg, idp, tls, gateway, decisionLog, lines, recordPublicKey);
  }

  get host(): string {
    return '127.0.0.1';
  }

  get port(): number {
    return Number(this.gateway.endpoints[0]!.split(':').pop());
  }

  /** libpq connection string for a target through Warden (the token goes in PGPASSWORD). */
  conninfo(target: string, sslmode = 'verify-full'): string {
    return `host=${this.host} port=${this.port} dbname=${target} user=agent sslmode=${sslmode} sslrootcert=${this.tls.caFile}`;
  }

  /** Options for node-postgres through Warden. */
  pgOptions(target: string, token: string) {
    return {
      host: this.host,
      port: this.port,
      database: target,
      user: 'agent',
      password: token,
      ssl: { ca: this.tls.ca },
    };
  }

  async decisions(): Promise<Record<string, unknown>[]> {
    const text = await readFile(this.decisionLog, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    await this.gateway.close();
    await Promise.all([this.pg.stop(), this.idp.stop()]);
    await rm(this.dir, { recursive: true, force: true });
  }
}
