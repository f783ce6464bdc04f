import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { makeTlsFiles } from './tls.js';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries installed (Debian layout), or the ones on PATH. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  throw new Error('PostgreSQL server binaries not found: apt-get install -y postgresql');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Roles the harness creates, each logging in over TCP with a different method. */
export const ROLES = {
  scram: { user: 'warden_scram', password: 'scram-Secret-7f3e9a' },
  md5: { user: 'warden_md5', password: 'md5-Secret-1c2d3e' },
} as const;

export interface PostgresOptions {
  /** Serve TLS with a certificate for 127.0.0.1/localhost, signed by the CA in `ca` (PEM). */
  tls?: boolean;
}

/**
 * A real PostgreSQL server in a temporary directory, run as the postgres
 * user on a free loopback port. Superuser access is over its Unix socket.
 */
export class PostgresServer {
  readonly dir: string;
  readonly port: number;
  readonly database = 'app';
  ca: string | null = null;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  get socketDir(): string {
    return join(this.dir, 'run');
  }

  static async start(options: PostgresOptions = {}): Promise<PostgresServer> {
    const bin = postgresBin();
    const dir = await mkdtemp(join(tmpdir(), 'warden-pg-'));
    const server = new PostgresServer(dir, await freePort());
    const data = join(dir, 'data');
    await mkdir(server.socketDir);
    await chmod(dir, 0o755);
    await run('chown', ['-R', 'postgres:postgres', dir]);
    await run('runuser', [
      '-u',
      'postgres',
      '--',
      join(bin, 'initdb'),
      '-D',
      data,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await writeFile(
      join(data, 'pg_hba.conf'),
      [
        'local all all trust',
        `host all ${ROLES.md5.user} 127.0.0.1/32 md5`,
        'host all all 127.0.0.1/32 scram-sha-256',
        'host all all ::1/128 scram-sha-256',
      ].join('\n'),
    );
    const settings = [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
    ];
    if (options.tls) settings.push(...(await server.#makeCertificates(data)));
    await run('runuser', [
      '-u',
      'postgres',
      '--',
      join(bin, 'pg_ctl'),
      '-D',
      data,
      '-l',
      join(dir, 'postgres.log'),
      '-o',
      `-p ${server.port} -k ${server.socketDir} ${settings.join(' ')}`,
      '-w',
      'start',
    ]);
    await server.sql(
      `SET password_encryption = 'md5'; CREATE ROLE ${ROLES.md5.user} LOGIN PASSWORD '${ROLES.md5.password}'`,
    );
    await server.sql(`CREATE ROLE ${ROLES.scram.user} LOGIN PASSWORD '${ROLES.scram.password}'`);
    await server.sql(`CREATE DATABASE ${server.database} OWNER ${ROLES.scram.user}`);
    await server.sql(`GRANT ALL ON DATABASE ${server.database} TO ${ROLES.md5.user}`);
    return server;
  }

  async #makeCertificates(data: string): Promise<string[]> {
    const tls = await makeTlsFiles(data, 'server');
    await run('chown', ['postgres:postgres', tls.keyFile, tls.certFile]);
    await chmod(tls.keyFile, 0o600);
    this.ca = tls.ca;
    return [
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${tls.certFile}`,
      '-c',
      `ssl_key_file=${tls.keyFile}`,
    ];
  }

  /** Runs SQL as the superuser (over the Unix socket) in `database` (default: postgres). */
  async sql<T extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    database = 'postgres',
  ): Promise<T[]> {
    const client = new pg.Client({
      host: this.socketDir,
      port: this.port,
      user: 'postgres',
      database,
    });
    await client.connect();
    try {
      const result = await client.query<T>(text);
      return (Array.isArray(result) ? result.at(-1).rows : result.rows) as T[];
    } finally {
      await client.end();
    }
  }

  /** How many logins over TCP the server has authorized so far (from its log; needs log_connections). */
  async tcpLogins(): Promise<number> {
    const log = await readFile(join(this.dir, 'postgres.log'), 'utf8');
    return (log.match(/connection authorized: user=warden_/g) ?? []).length;
  }

  async stop(): Promise<void> {
    await run('runuser', [
      '-u',
      'postgres',
      '--',
      join(postgresBin(), 'pg_ctl'),
      '-D',
      join(this.dir, 'data'),
      '-m',
      'immediate',
      '-w',
      'stop',
    ]).catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}
