/**
 * pgbench select-only (8 clients) through Warden with the default policy,
 * beside a direct connection and pgbouncer, measured in the same run; then a
 * 1,000,000-row SELECT through Warden and direct, with the gateway's peak
 * memory. Every client connects with TLS (sslmode=require).
 *
 *   npm run bench            (BENCH_SECONDS=15 per pgbench run by default)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { simpleGit } from 'simple-git';
import { buildBundle } from '../bundle-builder/src/build.js';
import { PROJECT_ROOT } from '../gateway/src/paths.js';
import { gatewayConfig, startGatewayProcess } from '../test/support/gateway-process.js';
import { startTestIdp } from '../test/support/oidc-provider.js';
import { freePort, PostgresServer, ROLES } from '../test/support/postgres.js';
import { makeTlsFiles } from '../test/support/tls.js';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CLIENTS = 8;
const PASSWORD_ENV = 'WARDEN_BENCH_PG_PASSWORD';

interface Result {
  name: string;
  tps: number;
  p50: number;
  p99: number;
}

async function pgbench(
  name: string,
  conninfo: string,
  dir: string,
  env: Record<string, string>,
): Promise<Result> {
  const prefix = join(dir, `log-${name}`);
  const { stdout } = await run(
    'pgbench',
    [
      '-n',
      '-S',
      '-M',
      'simple',
      '-c',
      String(CLIENTS),
      '-j',
      '2',
      '-T',
      String(SECONDS),
      '-l',
      `--log-prefix=${prefix}`,
      conninfo,
    ],
    { env: { ...process.env, ...env }, maxBuffer: 1 << 24 },
  );
  const tps = Number(stdout.match(/tps = ([\d.]+) \(without initial connection time\)/)?.[1]);
  const latencies: number[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.startsWith(`log-${name}.`))) {
    for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
      const us = Number(line.split(' ')[2]);
      if (Number.isFinite(us) && line) latencies.push(us);
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! / 1000;
  return { name, tps, p50: pct(50), p99: pct(99) };
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null)
      throw new Error(`exited: ${await readFile(log, 'utf8').catch(() => '')}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}: ${await readFile(log, 'utf8').catch(() => '')}`);
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmHWM:\s+(\d+) kB/)![1]) / 1024;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'warden-pgbench-'));
  await run('chmod', ['777', dir]); // pgbouncer runs as postgres and writes its log here
  const children: ChildProcess[] = [];
  const pg = await PostgresServer.start({ tls: true });
  const idp = await startTestIdp({ accessTokenTTL: 3600 });
  try {
    await run('pgbench', [
      '-i',
      '-s',
      '10',
      '-q',
      '-h',
      pg.socketDir,
      '-p',
      String(pg.port),
      '-U',
      'postgres',
      pg.database,
    ]);
    await pg.sql(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ROLES.scram.user}`, pg.database);
    const tls = await makeTlsFiles(dir, 'bench');
    await run('chown', ['postgres', tls.keyFile, tls.certFile]);
    const head = (await simpleGit(PROJECT_ROOT).revparse(['HEAD'])).trim();
    const bundle = await buildBundle({
      repo: PROJECT_ROOT,
      ref: head,
      out: join(dir, 'bundle.tar.gz'),
    });

    // Warden as its own processes (so their memory can be read), with the default policy and decision
    // logging on: once as a single process, once with one worker per core.
    const startWarden = async (workers: number | 'auto', record = false) => {
      const port = await freePort();
      const config = join(dir, `warden-${workers}-${record}.yaml`);
      const yaml = gatewayConfig({
        idp,
        pg,
        tls,
        bundle: bundle.out,
        port,
        passwordEnv: PASSWORD_ENV,
        workers,
        target: 'bench',
        targetTls: 'require',
        logLevel: 'warn',
        decisionLog: join(dir, `decisions-${workers}-${record}.log`),
        ...(record ? { recording: { directory: join(dir, 'sessions'), keyFile: recordKey } } : {}),
      });
      await writeFile(config, yaml);
      const { child } = await startGatewayProcess(
        config,
        PASSWORD_ENV,
        workers === 'auto' ? availableParallelism() : workers,
      );
      children.push(child);
      return { port, child };
    };
    const recordKey = join(dir, 'record-signing.pem');
    await writeFile(
      recordKey,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const single = await startWarden(1);
    const recording = await startWarden(1, true);
    const perCore = await startWarden('auto');
    await new Promise((r) => setTimeout(r, 2000)); // let every worker finish starting

    // pgbouncer, session pooling, TLS on both sides like Warden.
    const bouncerPort = await freePort();
    await writeFile(join(dir, 'userlist.txt'), `"${ROLES.scram.user}" "${ROLES.scram.password}"\n`);
    await writeFile(
      join(dir, 'pgbouncer.ini'),
      `[databases]
bench = host=127.0.0.1 port=${pg.port} dbname=${pg.database}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${bouncerPort}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${join(dir, 'userlist.txt')}
pool_mode = session
default_pool_size = ${CLIENTS}
max_client_conn = 100
client_tls_sslmode = require
client_tls_cert_file = ${tls.certFile}
client_tls_key_file = ${tls.keyFile}
server_tls_sslmode = require
logfile = ${join(dir, 'pgbouncer.log')}
`,
    );
    await run('chown', ['postgres', join(dir, 'userlist.txt'), join(dir, 'pgbouncer.ini')]);
    const bouncer = spawn(
      'runuser',
      ['-u', 'postgres', '--', 'pgbouncer', join(dir, 'pgbouncer.ini')],
      { stdio: 'ignore' },
    );
    children.push(bouncer);
    await waitForPort(bouncerPort, bouncer, join(dir, 'pgbouncer.log'));

    const token = await idp.agentToken();
    const viaWarden = (port: number) =>
      [
        `host=127.0.0.1 port=${port} dbname=bench user=agent sslmode=require`,
        { PGPASSWORD: token },
      ] as const;
    const direct = `host=127.0.0.1 port=${pg.port} dbname=${pg.database} user=${ROLES.scram.user} sslmode=require`;
    const via: [string, readonly [string, Record<string, string>]][] = [
      ['direct', [direct, { PGPASSWORD: ROLES.scram.password }]],
      [
        'pgbouncer',
        [
          `host=127.0.0.1 port=${bouncerPort} dbname=bench user=${ROLES.scram.user} sslmode=require`,
          { PGPASSWORD: ROLES.scram.password },
        ],
      ],
      ['warden (1 process)', viaWarden(single.port)],
      ['warden (1 process, recording)', viaWarden(recording.port)],
      ['warden (workers: auto)', viaWarden(perCore.port)],
    ];

    const results: Result[] = [];
    for (const [name, [conninfo, env]] of via) {
      results.push({ ...(await pgbench(name.replace(/\W+/g, '-'), conninfo, dir, env)), name });
    }
    const baseline = results[0]!;
    console.log(
      `pgbench -S -M simple, ${CLIENTS} clients, ${availableParallelism()} cores, 2 threads, ${SECONDS} s each, scale 10, TLS everywhere; node ${process.version}`,
    );
    console.table(
      results.map((r) => ({
        via: r.name,
        tps: Math.round(r.tps),
        'tps vs direct': `${(r.tps / baseline.tps).toFixed(2)}x`,
        'p50 ms': r.p50.toFixed(3),
        'p99 ms': r.p99.toFixed(3),
        'added p50 ms': (r.p50 - baseline.p50).toFixed(3),
        'added p99 ms': (r.p99 - baseline.p99).toFixed(3),
      })),
    );

    // One million rows: Warden must stream them, not hold them.
    const query = 'SELECT g, md5(g::text) AS h FROM generate_series(1, 1000000) g';
    const psql = (conninfo: string, env: Record<string, string>) =>
      run('psql', ['-X', '-q', '-o', '/dev/null', '-c', query, conninfo], {
        env: { ...process.env, ...env },
        maxBuffer: 1 << 20,
      });
    const pid = single.child.pid!;
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    const idle = await peakRssMb(pid);
    const directSeconds = await timed(() => psql(direct, { PGPASSWORD: ROLES.scram.password }));
    const wardenSeconds = await timed(() => psql(...viaWarden(single.port)));
    const peak = await peakRssMb(pid);
    console.log(
      `1,000,000-row SELECT (psql): direct ${directSeconds.toFixed(2)} s, through Warden ${wardenSeconds.toFixed(2)} s ` +
        `(${(wardenSeconds / directSeconds).toFixed(2)}x); Warden peak RSS ${peak.toFixed(0)} MiB during the query ` +
        `(${idle.toFixed(0)} MiB before it)`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await idp.stop();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
