import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { WardenError } from '../errors.js';
import { checkIdentityConfig } from '../identity/config.js';
import { validator } from '../validation.js';
import { type Config, ConfigSchema, type SecretRef } from './schema.js';

const validate = validator(ConfigSchema, 'config.invalid');

/** Parses and validates a configuration document; paths resolve against `baseDir`. */
export function parseConfig(text: string, where: string, baseDir: string): Config {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new WardenError('config.invalid', `${where}: not valid YAML: ${doc.errors[0]!.message}`);
  }
  const config = validate(doc.toJS() ?? {}, where);
  const bundle = config.policy.bundle;
  if ((bundle.path === undefined) === (bundle.url === undefined)) {
    throw new WardenError(
      'config.invalid',
      `${where}: policy.bundle: expected exactly one of path or url`,
    );
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  if (bundle.path) bundle.path = abs(bundle.path);
  const dest = config.policy.decision_logs.destination;
  if (dest !== 'stdout' && dest !== 'off') config.policy.decision_logs.destination = abs(dest);
  const key = config.policy.verification?.key;
  if (key && 'file' in key) key.file = abs(key.file);
  for (const t of config.targets) {
    for (const ref of [t.credentials.password, t.tls.ca])
      if (ref && 'file' in ref) ref.file = abs(ref.file);
  }
  for (const e of config.endpoints) {
    for (const ref of [e.tls?.cert, e.tls?.key]) if (ref && 'file' in ref) ref.file = abs(ref.file);
  }
  if (config.recording) {
    config.recording.directory = abs(config.recording.directory);
    const k = config.recording.signing_key;
    if ('file' in k) k.file = abs(k.file);
  }
  if (config.identity) {
    const secret = config.identity.introspection?.client_secret;
    if (secret && 'file' in secret) secret.file = abs(secret.file);
    checkIdentityConfig(config.identity, `${where}: identity`);
  }
  if (config.endpoints.length > 0 && !config.identity) {
    throw new WardenError(
      'config.invalid',
      `${where}: identity: is required when endpoints are configured`,
    );
  }
  return config;
}

export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new WardenError(
      'config.invalid',
      `cannot read configuration ${path}: ${(err as Error).message}`,
    );
  }
  return parseConfig(text, path, dirname(resolve(path)));
}

/** Reads a referenced secret; `key` names the setting in errors (never the value). */
export async function readSecret(ref: SecretRef, key: string): Promise<string> {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (!value)
      throw new WardenError(
        'config.secret_unavailable',
        `${key}: environment variable ${ref.env} is not set`,
      );
    return value;
  }
  try {
    return (await readFile(ref.file, 'utf8')).trim();
  } catch (err) {
    throw new WardenError(
      'config.secret_unavailable',
      `${key}: cannot read ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}
