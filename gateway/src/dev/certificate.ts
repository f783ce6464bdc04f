import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * A self-signed TLS certificate for the dev endpoint, made with node:crypto
 * alone (no openssl): ECDSA P-256, subjectAltName IP:127.0.0.1, IP:::1 and
 * DNS:localhost. Clients using `sslmode=require` encrypt without verifying
 * it; `sslmode=verify-full sslrootcert=<cert>` verifies it too.
 */

// Minimal DER encoding: only what one certificate needs.
const der = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
};
const seq = (...parts: Buffer[]) => der(0x30, ...parts);
const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = v >>> 7; x > 0; x >>>= 7) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
};
const utf8 = (s: string) => der(0x0c, Buffer.from(s, 'utf8'));
const time = (d: Date): Buffer => {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : der(0x18, Buffer.from(`${iso}Z`));
};
const name = (cn: string) => seq(der(0x31, seq(oid('2.5.4.3'), utf8(cn))));

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export interface DevCertificate {
  certFile: string;
  keyFile: string;
}

export function makeSelfSignedCertificate(
  commonName: string,
  days: number,
): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // a positive INTEGER
  const now = Date.now();
  const altNames = seq(
    der(0x87, Buffer.from([127, 0, 0, 1])),
    der(0x87, Buffer.concat([Buffer.alloc(15), Buffer.from([1])])),
    der(0x82, Buffer.from('localhost')),
  );
  const extensions = der(
    0xa3,
    seq(
      seq(oid('2.5.29.19'), der(0x04, seq())), // basicConstraints: not a CA
      seq(oid('2.5.29.17'), der(0x04, altNames)),
      seq(
        oid('2.5.29.37'),
        der(0x04, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
      ),
    ),
  );
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // v3
    der(0x02, serial),
    ECDSA_SHA256,
    name(commonName),
    seq(time(new Date(now - 60_000)), time(new Date(now + days * 86_400_000))),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey); // DER-encoded ECDSA signature
  const certDer = seq(tbs, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${certDer
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE-----\n`;
  // Parse it back: a malformed encoding fails here, not in a client.
  new X509Certificate(cert);
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** The dev endpoint's certificate and key in `stateDir`, made on first use (valid ten years). */
export async function devCertificate(stateDir: string): Promise<DevCertificate> {
  const certFile = join(stateDir, 'endpoint.crt');
  const keyFile = join(stateDir, 'endpoint.key');
  const exists = async (p: string) => Boolean(await stat(p).catch(() => null));
  if (!(await exists(certFile)) || !(await exists(keyFile))) {
    const { cert, key } = makeSelfSignedCertificate('warden dev endpoint', 3650);
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    // Key first, so a certificate on disk always has its own key beside it.
    await writeFile(keyFile, key, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    await writeFile(certFile, cert);
  }
  return { certFile, keyFile };
}
