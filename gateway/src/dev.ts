import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { simpleGit } from 'simple-git';
import { buildBundle } from '../../bundle-builder/src/build.js';
import { parseConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { devCertificate } from './dev/certificate.js';
import { DATABASE, type DemoDatabase, startDemoDatabase, USER } from './dev/demo-database.js';
import { type DevIssuer, startDevIssuer } from './dev/issuer.js';
import {
  AGENT_CLIENT,
  AUDIENCE,
  type DevSettings,
  type DevState,
  devSettings,
  HUMAN_CLIENT,
  KIND_CLAIM,
  statePath,
} from './dev/settings.js';
import { PROJECT_ROOT } from './paths.js';
import { readTarGz } from './policy/bundle-files.js';

/** The demo's targets: the same embedded database, once labelled production and once not. */
export const DEMO_TARGETS = [
  { name: 'demo', labels: { environment: 'production' } },
  { name: 'demo-staging', labels: { environment: 'staging' } },
] as const;

export interface DevEnvironment {
  settings: DevSettings;
  config: Config;
  issuer: string;
  /** Records that the gateway is up (for `warden dev token`) and returns what to print. */
  ready(pid: number): Promise<string>;
  /** Stops the issuer and the demo database, and forgets `running.json`. */
  close(): Promise<void>;
}

/**
 * The embedded defaults `npm start` runs with, all in this process:
 * the default policy built from this repository's HEAD into a bundle signed
 * by a local development key; a development token issuer (a real OpenID
 * Provider on loopback); a demo PostgreSQL database (PGlite); and a
 * PostgreSQL endpoint with a self-signed certificate, whose targets point
 * at that database. See README.md ("Try it").
 */
export async function startDevEnvironment(
  logger: Logger,
  settings: DevSettings = devSettings(),
): Promise<DevEnvironment> {
  let issuer: DevIssuer | null = null;
  let database: DemoDatabase | null = null;
  const closeServices = async () => {
    await Promise.allSettled([issuer?.close(), database?.close()]);
  };
  try {
    const [bundle, cert, iss, db] = await Promise.all([
      devBundle(settings.dir, logger),
      devCertificate(settings.stateDir),
      startDevIssuer({ port: settings.issuerPort, stateDir: settings.stateDir, logger }).then(
        (i) => {
          issuer = i;
          return i;
        },
      ),
      startDemoDatabase({ port: settings.databasePort, logger }).then((d) => {
        database = d;
        return d;
      }),
    ]);
    const raw = {
      // One process: the demo database and the token issuer live in it.
      gateway: { id: 'warden-dev', workers: 1 },
      log: { level: 'info' },
      admin: { listen: `127.0.0.1:${settings.adminPort}` },
      identity: {
        issuer: iss.issuer,
        audience: AUDIENCE,
        // Honoured only because the issuer is on loopback.
        allow_insecure_http: true,
        claims: { kind: KIND_CLAIM },
      },
      endpoints: [
        {
          protocol: 'postgres',
          listen: `127.0.0.1:${settings.endpointPort}`,
          tls: { cert: { file: cert.certFile }, key: { file: cert.keyFile } },
        },
      ],
      targets: DEMO_TARGETS.map((t) => ({
        name: t.name,
        protocol: 'postgres',
        address: db.address,
        database: DATABASE,
        labels: t.labels,
        // In-process loopback database: there is no TLS to speak to it with.
        tls: { mode: 'disable' },
        credentials: { username: USER },
      })),
      policy: {
        entrypoint: 'warden/decision',
        bundle: { path: bundle.path, poll_seconds: 5, long_poll_seconds: 0 },
        verification: { key: { file: bundle.publicKey }, algorithm: 'RS256', scope: '' },
        decision_logs: { destination: join(settings.dir, 'decisions.log'), erase: [] },
      },
      recording: {
        directory: join(settings.dir, 'sessions'),
        signing_key: { file: await devRecordKey(settings.stateDir) },
      },
    };
    const config = parseConfig(JSON.stringify(raw), 'dev configuration', settings.dir);
    return {
      settings,
      config,
      issuer: iss.issuer,
      async ready(pid) {
        const state: DevState = {
          pid,
          issuer: iss.issuer,
          endpoint: { host: '127.0.0.1', port: settings.endpointPort },
          targets: DEMO_TARGETS.map((t) => t.name),
        };
        await writeFile(statePath(settings), `${JSON.stringify(state, null, 2)}\n`, {
          mode: 0o600,
        });
        return instructions(settings, config);
      },
      async close() {
        await rm(statePath(settings), { force: true });
        await closeServices();
      },
    };
  } catch (err) {
    await closeServices();
    throw err;
  }
}

/** The default policy at HEAD, built and signed with the dev key unless the bundle already has that revision. */
async function devBundle(
  dir: string,
  logger: Logger,
): Promise<{ path: string; publicKey: string }> {
  const keys = join(dir, 'keys');
  const bundle = join(dir, 'bundles', 'default.tar.gz');
  await mkdir(keys, { recursive: true });
  const priv = join(keys, 'bundle-signing.pem');
  const pub = join(keys, 'bundle-signing.pub.pem');
  if (!(await stat(priv).catch(() => null))) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    await writeFile(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    logger.info({ key: priv }, 'generated a development bundle-signing key');
  }
  const head = (await simpleGit(PROJECT_ROOT).revparse(['HEAD'])).trim();
  if ((await builtRevision(bundle)) !== head) {
    await buildBundle({ repo: PROJECT_ROOT, ref: head, out: bundle, signingKey: priv, logger });
  }
  return { path: bundle, publicKey: pub };
}

/** The Ed25519 key that seals the demo's session records (made once, kept in the state directory). */
async function devRecordKey(stateDir: string): Promise<string> {
  const file = join(stateDir, 'record-signing.pem');
  if (!(await stat(file).catch(() => null))) {
    await mkdir(stateDir, { recursive: true });
    const pair = generateKeyPairSync('ed25519');
    await writeFile(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    await writeFile(
      join(stateDir, 'record-signing.pub.pem'),
      pair.publicKey.export({ type: 'spki', format: 'pem' }),
    );
  }
  return file;
}

async function builtRevision(bundle: string): Promise<string | null> {
  try {
    const manifest = (await readTarGz(await readFile(bundle))).get('.manifest');
    return manifest
      ? ((JSON.parse(manifest.toString()) as { revision?: string }).revision ?? null)
      : null;
  } catch {
    return null;
  }
}

/** What `npm start` prints once everything is up. */
function instructions(settings: DevSettings, config: Config): string {
  // `warden dev token` finds the issuer through running.json in the state directory.
  const env = process.env.WARDEN_DEV_DIR ? `WARDEN_DEV_DIR=${settings.dir} ` : '';
  const token = `${env}node ${join(PROJECT_ROOT, 'bin', 'warden.js')} dev token`;
  const psql = (target: string) =>
    `psql "host=127.0.0.1 port=${settings.endpointPort} dbname=${target} user=agent sslmode=require"`;
  return [
    '',
    'Warden demo is ready.',
    `  token issuer  ${config.identity!.issuer}  (clients ${AGENT_CLIENT}, ${HUMAN_CLIENT})`,
    `  targets       demo (environment: production), demo-staging: an embedded PostgreSQL (PGlite)`,
    `  decisions     ${config.policy.decision_logs.destination}`,
    '',
    'Connect as the demo agent (tokens last an hour):',
    `  export PGPASSWORD=$(${token})`,
    `  ${psql('demo')}`,
    '',
    'Then try:',
    '  SELECT name, email FROM customers LIMIT 5;     -- allowed',
    '  DROP TABLE orders;                              -- denied, with the reason',
    "  UPDATE orders SET status = 'x' WHERE id = 1;    -- requires approval (demo is production)",
    '',
    `The same UPDATE runs on dbname=demo-staging, or with a human's token: ${token} --human`,
    'Every decision is in the decision log. Ctrl-C stops everything.',
    '',
  ].join('\n');
}
