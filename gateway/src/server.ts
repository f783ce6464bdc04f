import { createPublicKey, type KeyObject } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { adapterFor } from './adapters/registry.js';
import { registerSessionsApi } from './admin/api.js';
import { workerIndex } from './cluster.js';
import { readSecret } from './config/load.js';
import type { Config } from './config/schema.js';
import type { Listening } from './core/adapter.js';
import { GatewayCore, type RecordingOptions } from './core/gateway-core.js';
import { messageOf, WardenError } from './errors.js';
import { hostPort } from './host-port.js';
import { IdentityVerifier } from './identity/verifier.js';
import { httpLogger } from './log.js';
import type { VerificationKey } from './policy/bundle-signature.js';
import type { BundleSource } from './policy/bundle-source.js';
import { BundleWatcher } from './policy/bundle-source.js';
import { DecisionLog } from './policy/decision-log.js';
import { DecisionUploader } from './policy/decision-upload.js';
import { PolicyEngine } from './policy/engine.js';
import { signingKey } from './recording/manifest.js';
import { keepRecordsFor } from './recording/retention.js';

export const VERSION = '0.1.0';

export interface Gateway {
  engine: PolicyEngine;
  admin: FastifyInstance | null;
  adminUrl: string | null;
  /** Bound address (host:port) of each configured endpoint, in configuration order. */
  endpoints: string[];
  close(): Promise<void>;
}

export async function verificationKey(config: Config): Promise<VerificationKey | null> {
  const v = config.policy.verification;
  if (!v) return null;
  return {
    key: await readSecret(v.key, 'policy.verification.key'),
    algorithm: v.algorithm,
    scope: v.scope,
  };
}

async function bundleSource(config: Config): Promise<BundleSource> {
  const b = config.policy.bundle;
  if (b.path) return { kind: 'path', path: b.path, pollSeconds: b.poll_seconds };
  const headers: Record<string, string> = {};
  if (b.auth_token)
    headers.authorization = `Bearer ${await readSecret(b.auth_token, 'policy.bundle.auth_token')}`;
  return {
    kind: 'http',
    url: b.url!,
    pollSeconds: b.poll_seconds,
    longPollSeconds: b.long_poll_seconds,
    headers,
  };
}

async function decisionUploader(config: Config, logger: Logger): Promise<DecisionUploader | null> {
  const u = config.policy.decision_logs.upload;
  if (!u) return null;
  const headers: Record<string, string> = {};
  if (u.auth_token) {
    headers.authorization = `Bearer ${await readSecret(u.auth_token, 'policy.decision_logs.upload.auth_token')}`;
  }
  return new DecisionUploader({
    url: u.url,
    headers,
    intervalMs: u.interval_seconds * 1000,
    maxBuffered: u.max_buffered,
    logger: logger.child({ component: 'decision-upload' }),
  });
}

async function recordingOptions(config: Config, logger: Logger): Promise<RecordingOptions | null> {
  const r = config.recording;
  if (!r) {
    logger.warn(
      'no recording section: sessions are not recorded (decisions still go to the decision log)',
    );
    return null;
  }
  const pem = await readSecret(r.signing_key, 'recording.signing_key');
  let key: KeyObject;
  try {
    key = signingKey(pem).key;
  } catch (err) {
    throw new WardenError('config.invalid', `recording.signing_key: ${messageOf(err)}`);
  }
  if (r.retention_days !== undefined && workerIndex === 0)
    keepRecordsFor(r.directory, r.retention_days, logger);
  return {
    root: r.directory,
    key,
    fsyncIntervalMs: r.fsync_interval_ms,
    gatewayId: config.gateway.id,
  };
}

/** Starts every configured endpoint with its protocol's adapter; an unknown protocol stops startup. */
async function identityVerifier(config: Config): Promise<IdentityVerifier | null> {
  const identity = config.identity;
  if (!identity) return null;
  const secret = identity.introspection?.client_secret;
  return new IdentityVerifier(identity, {
    ...(secret
      ? { clientSecret: await readSecret(secret, 'identity.introspection.client_secret') }
      : {}),
  });
}

async function startEndpoints(
  config: Config,
  engine: PolicyEngine,
  verifier: IdentityVerifier | null,
  recording: RecordingOptions | null,
  logger: Logger,
): Promise<Listening[]> {
  for (const [i, t] of config.targets.entries()) adapterFor(t.protocol, `targets[${i}].protocol`);
  const adapters = config.endpoints.map((e, i) =>
    adapterFor(e.protocol, `endpoints[${i}].protocol`),
  );
  if (adapters.length === 0 || !config.identity || !verifier) return [];
  const identity = config.identity;
  const core = new GatewayCore({
    engine,
    recording,
    verifier,
    targets: config.targets,
    logger,
    onTokenExpiry: identity.on_expiry,
  });
  for (const adapter of new Set(adapters)) await adapter.prepare();
  const listening: Listening[] = [];
  for (const [i, endpoint] of config.endpoints.entries()) {
    const l = await adapters[i]!.serve(endpoint, core, logger);
    logger.info({ protocol: endpoint.protocol, address: l.address }, 'endpoint listening');
    listening.push(l);
  }
  return listening;
}

/** Starts the policy engine, its bundle watcher, the endpoints and the admin API. */
export async function startGateway(config: Config, logger: Logger): Promise<Gateway> {
  const verification = await verificationKey(config);
  if (!verification)
    logger.warn('no policy.verification key configured: bundles are not signature-checked');
  const decisionLog = new DecisionLog({
    destination: config.policy.decision_logs.destination,
    erase: config.policy.decision_logs.erase,
    labels: { id: config.gateway.id, version: VERSION, type: 'warden' },
    upload: await decisionUploader(config, logger),
  });
  const engine = new PolicyEngine({
    logger,
    decisionLog,
    verification,
    entrypoint: config.policy.entrypoint,
  });
  const watcher = new BundleWatcher(engine, await bundleSource(config), logger);
  await watcher.start();
  if (!engine.status().ready)
    logger.error('no valid policy bundle: every command will be denied until one loads');

  const verifier = await identityVerifier(config);
  const recording = await recordingOptions(config, logger);
  const listening = await startEndpoints(config, engine, verifier, recording, logger);

  let admin: FastifyInstance | null = null;
  let adminUrl: string | null = null;
  if (config.admin.listen !== 'off') {
    admin = Fastify({ loggerInstance: httpLogger(logger, 'admin') });
    admin.get('/health', async () => ({ status: 'ok' }));
    admin.get('/ready', async (_req, reply) => {
      const status = engine.status();
      return reply
        .code(status.ready ? 200 : 503)
        .send({ ready: status.ready, revision: status.revision });
    });
    admin.get('/v1/policy', async () => engine.status());
    if (recording) {
      registerSessionsApi(admin, {
        recordsRoot: recording.root,
        recordPublicKey: createPublicKey(recording.key)
          .export({ type: 'spki', format: 'pem' })
          .toString(),
        access: {
          token: config.admin.token ? await readSecret(config.admin.token, 'admin.token') : null,
          groups: config.admin.groups,
          verifier,
        },
      });
    }
    const { host, port } = hostPort(config.admin.listen);
    adminUrl = await admin.listen({ host, port });
    logger.info({ url: adminUrl }, 'admin API listening');
  }

  return {
    engine,
    admin,
    adminUrl,
    endpoints: listening.map((l) => l.address),
    async close() {
      await Promise.all(listening.map((l) => l.close()));
      await watcher.stop();
      await admin?.close();
      await decisionLog.close();
    },
  };
}
