import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsFiles {
  ca: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1 and localhost, made with openssl in `dir`. */
export async function makeTlsFiles(dir: string, name = 'server'): Promise<TlsFiles> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}-ca`,
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.crt`,
  );
  await writeFile(join(dir, `${name}-san.cnf`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  );
  await ssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${name}-ca.crt`,
    '-CAkey',
    `${name}-ca.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}-san.cnf`,
    '-out',
    `${name}.crt`,
  );
  return {
    ca: await readFile(join(dir, `${name}-ca.crt`), 'utf8'),
    caFile: join(dir, `${name}-ca.crt`),
    certFile: join(dir, `${name}.crt`),
    keyFile: join(dir, `${name}.key`),
  };
}
