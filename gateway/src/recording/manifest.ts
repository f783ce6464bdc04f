/**
 * The seal: manifest.json (canonical JSON + "\n") and manifest.jws, a
 * compact JWS whose payload is exactly the bytes of manifest.json, signed
 * with the gateway's key (Ed25519 → EdDSA, P-256 → ES256).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { WardenError } from '../errors.js';
import type { MANIFEST_FORMAT } from './events.js';

export interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  session_id: string;
  gateway_id: string;
  started: string;
  ended: string;
  sealed_at: string;
  revisions: string[];
  event_count: number;
  last_hash: string;
  /** Every file of the record except manifest.json and manifest.jws, sorted by name. */
  files: ManifestFile[];
}

export const JWS_TYP = 'warden-record-manifest+jws';
export type RecordAlgorithm = 'EdDSA' | 'ES256';

export function algorithmFor(key: KeyObject): RecordAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ES256';
  throw new WardenError(
    'record.key',
    `a record signing key must be Ed25519 or EC P-256, not ${key.asymmetricKeyType ?? 'unknown'}`,
  );
}

/** A PEM private key (PKCS#8 or SEC1) or a KeyObject → the key and its algorithm. */
export function signingKey(key: string | KeyObject): { key: KeyObject; alg: RecordAlgorithm } {
  let k: KeyObject;
  try {
    k = typeof key === 'string' ? createPrivateKey(key) : key;
  } catch (err) {
    throw new WardenError('record.key', `record signing key unusable: ${(err as Error).message}`);
  }
  if (k.type !== 'private')
    throw new WardenError('record.key', 'record signing key is not private');
  return { key: k, alg: algorithmFor(k) };
}

export function publicKey(pem: string | KeyObject): { key: KeyObject; alg: RecordAlgorithm } {
  let k: KeyObject;
  try {
    k = typeof pem === 'string' ? createPublicKey(pem) : pem;
  } catch (err) {
    throw new WardenError('record.key', `record public key unusable: ${(err as Error).message}`);
  }
  if (k.type === 'private') k = createPublicKey(k);
  return { key: k, alg: algorithmFor(k) };
}

export async function signManifest(
  manifestBytes: Uint8Array,
  key: string | KeyObject,
  kid?: string,
): Promise<string> {
  const { key: k, alg } = signingKey(key);
  return new CompactSign(manifestBytes)
    .setProtectedHeader(kid ? { alg, typ: JWS_TYP, kid } : { alg, typ: JWS_TYP })
    .sign(k);
}

/** The signed payload, or an error message. */
export async function verifyManifestSignature(
  jws: string,
  key: string | KeyObject,
): Promise<{ ok: true; payload: Uint8Array } | { ok: false; message: string }> {
  const { key: k, alg } = publicKey(key);
  try {
    const r = await compactVerify(jws.trim(), k, { algorithms: [alg] });
    if (r.protectedHeader.typ !== JWS_TYP)
      return { ok: false, message: `unexpected JWS typ ${String(r.protectedHeader.typ)}` };
    return { ok: true, payload: r.payload };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}
