import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { simpleGit } from 'simple-git';
import { buildBundle } from '../../bundle-builder/src/build.js';
import type { Config } from './config/schema.js';
import { PROJECT_ROOT } from './paths.js';
import { readTarGz } from './policy/bundle-files.js';

export const DEV_DIR = join(PROJECT_ROOT, '.warden');

/**
 * The embedded defaults `npm start` runs with: the default policy built from
 * this repository's HEAD into a bundle signed by a local development key.
 */
export async function devConfig(logger: Logger): Promise<Config> {
  const keys = join(DEV_DIR, 'keys');
  const bundle = join(DEV_DIR, 'bundles', 'default.tar.gz');
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
  return {
    gateway: { id: 'warden-dev' },
    log: { level: 'info' },
    admin: { listen: '127.0.0.1:8181' },
    endpoints: [],
    targets: [],
    policy: {
      entrypoint: 'warden/decision',
      bundle: { path: bundle, poll_seconds: 5, long_poll_seconds: 0 },
      verification: { key: { file: pub }, algorithm: 'RS256', scope: '' },
      decision_logs: { destination: join(DEV_DIR, 'decisions.log'), erase: [] },
    },
  };
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
