import { createHash, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import YAML from 'yaml';
import { WardenError } from '../errors.js';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../jose-algorithms.js';
import type { BundleFiles } from './bundle-files.js';

/**
 * Verifies bundles signed in OPA's `.signatures.json` format
 * (https://www.openpolicyagent.org/docs/latest/management-bundles/#signing).
 * The npm SDK does not verify signatures, so this follows OPA's own verifier:
 * exactly one JWT; the configured key and algorithm only; the scope must match;
 * every file listed, none missing, none extra.
 */

export const SIGNATURES_FILE = '.signatures.json';

const ASYMMETRIC = ASYMMETRIC_JWS_ALGORITHMS;
const SYMMETRIC = ['HS256', 'HS384', 'HS512'] as const;
export type SigningAlgorithm = (typeof ASYMMETRIC)[number] | (typeof SYMMETRIC)[number];
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = [...ASYMMETRIC, ...SYMMETRIC];

export interface VerificationKey {
  /** PEM public key or certificate for asymmetric algorithms; the shared secret for HS*. */
  key: string;
  algorithm: SigningAlgorithm;
  scope: string;
}

interface SignedFile {
  name: string;
  hash: string;
  algorithm: string;
}

const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

/** OPA hashes these files as JSON with sorted keys, so whitespace does not matter. */
function isStructured(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return (
    base === 'data.json' || base === 'data.yaml' || base === '.manifest' || base === SIGNATURES_FILE
  );
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The canonical text OPA hashes for a structured document (Go's encoder without HTML escaping). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort(byteOrder);
    return `{${keys.map((k) => `${encodeString(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  if (typeof value === 'string') return encodeString(value);
  return JSON.stringify(value);
}

function encodeString(s: string): string {
  return JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function hashBundleFile(name: string, content: Buffer, algorithm = 'SHA-256'): string {
  const nodeAlg = HASHES[algorithm];
  if (!nodeAlg)
    throw new WardenError(
      'bundle.signature',
      `unsupported hashing algorithm ${algorithm} for ${name}`,
    );
  const hash = createHash(nodeAlg);
  if (isStructured(name)) {
    const text = content.toString('utf8');
    const parsed: unknown = name.endsWith('.yaml') ? YAML.parse(text) : JSON.parse(text);
    hash.update(canonicalJson(parsed));
  } else {
    hash.update(content);
  }
  return hash.digest('hex');
}

function keyObject(v: VerificationKey): KeyObject {
  if ((SYMMETRIC as readonly string[]).includes(v.algorithm))
    return createSecretKey(Buffer.from(v.key));
  try {
    return createPublicKey(v.key);
  } catch (err) {
    throw new WardenError(
      'bundle.signature',
      `verification key is not a PEM public key or certificate: ${(err as Error).message}`,
    );
  }
}

function parseSignedFiles(payload: unknown): SignedFile[] {
  const files = (payload as { files?: unknown })?.files;
  if (!Array.isArray(files))
    throw new WardenError('bundle.signature', 'signature payload has no files list');
  return files.map((f) => {
    const { name, hash, algorithm } = (f ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || typeof hash !== 'string' || typeof algorithm !== 'string') {
      throw new WardenError('bundle.signature', 'signature payload has a malformed file entry');
    }
    return { name: name.replace(/^\/+/, ''), hash, algorithm };
  });
}

/**
 * Throws a `bundle.signature` WardenError unless the bundle carries a valid
 * signature by `verification` covering exactly its files.
 */
export async function verifyBundleSignature(
  files: BundleFiles,
  verification: VerificationKey,
): Promise<void> {
  const raw = files.get(SIGNATURES_FILE);
  if (!raw)
    throw new WardenError(
      'bundle.signature',
      'bundle is not signed (no .signatures.json) and a verification key is configured',
    );
  let signatures: unknown;
  try {
    signatures = (JSON.parse(raw.toString('utf8')) as { signatures?: unknown }).signatures;
  } catch {
    throw new WardenError('bundle.signature', '.signatures.json is not valid JSON');
  }
  if (!Array.isArray(signatures) || signatures.length !== 1 || typeof signatures[0] !== 'string') {
    throw new WardenError('bundle.signature', '.signatures.json must hold exactly one JWT');
  }
  const token = signatures[0];
  try {
    decodeProtectedHeader(token);
  } catch {
    throw new WardenError('bundle.signature', 'bundle signature is not a JWT');
  }
  let payload: unknown;
  try {
    const verified = await compactVerify(token, keyObject(verification), {
      algorithms: [verification.algorithm],
    });
    payload = JSON.parse(new TextDecoder().decode(verified.payload));
  } catch (err) {
    if (err instanceof WardenError) throw err;
    throw new WardenError(
      'bundle.signature',
      `bundle signature does not verify: ${(err as Error).message}`,
    );
  }
  const scope = (payload as { scope?: unknown }).scope ?? '';
  if (scope !== verification.scope)
    throw new WardenError('bundle.signature', 'bundle signature scope mismatch');

  const signed = new Map(parseSignedFiles(payload).map((f) => [f.name, f]));
  for (const [name, content] of files) {
    if (name === SIGNATURES_FILE) continue;
    const entry = signed.get(name);
    if (!entry)
      throw new WardenError(
        'bundle.signature',
        `file ${name} is not covered by the bundle signature`,
      );
    if (hashBundleFile(name, content, entry.algorithm) !== entry.hash) {
      throw new WardenError('bundle.signature', `file ${name} does not match its signed digest`);
    }
    signed.delete(name);
  }
  if (signed.size > 0) {
    throw new WardenError(
      'bundle.signature',
      `signed file(s) missing from the bundle: ${[...signed.keys()].join(', ')}`,
    );
  }
}
