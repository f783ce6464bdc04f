import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface KeyFiles {
  privateKey: string;
  publicKey: string;
  publicPem: string;
}

/** An RSA key pair written as PEM files into `dir`. */
export async function rsaKeyFiles(dir: string, name: string): Promise<KeyFiles> {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = join(dir, `${name}.pem`);
  const publicKey = join(dir, `${name}.pub.pem`);
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(privateKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(publicKey, publicPem);
  return { privateKey, publicKey, publicPem };
}
