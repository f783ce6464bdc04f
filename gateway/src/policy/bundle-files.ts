import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { WardenError } from '../errors.js';

/** A bundle's files by their path inside the bundle, without a leading slash. */
export type BundleFiles = Map<string, Buffer>;

export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

function normalizeName(name: string): string {
  const clean = name.replace(/^\.?\/+/, '');
  if (clean.split('/').some((part) => part === '..')) {
    throw new WardenError('bundle.invalid', `bundle entry escapes the bundle: ${name}`);
  }
  return clean;
}

/** Reads a gzipped tar bundle held in memory. */
export async function readTarGz(bytes: Buffer, maxBytes = MAX_BUNDLE_BYTES): Promise<BundleFiles> {
  const files: BundleFiles = new Map();
  let total = 0;
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        total += chunk.length;
        if (total > maxBytes) {
          tar.destroy(new WardenError('bundle.invalid', `bundle is larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        try {
          if (header.type === 'file') files.set(normalizeName(header.name), Buffer.concat(chunks));
          next();
        } catch (err) {
          tar.destroy(err as Error);
        }
      });
      stream.resume();
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  const gunzip = createGunzip();
  gunzip.on('error', (err) =>
    tar.destroy(new WardenError('bundle.invalid', `bundle is not a gzipped tar: ${err.message}`)),
  );
  Readable.from([bytes]).pipe(gunzip).pipe(tar);
  try {
    await done;
  } catch (err) {
    if (err instanceof WardenError) throw err;
    throw new WardenError(
      'bundle.invalid',
      `bundle is not a valid tar archive: ${(err as Error).message}`,
    );
  }
  return files;
}

/** Reads a bundle laid out as a directory (as `opa run --bundle dir/` would). */
export async function readBundleDirectory(dir: string): Promise<BundleFiles> {
  const files: BundleFiles = new Map();
  let total = 0;
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        total += (await stat(full)).size;
        if (total > MAX_BUNDLE_BYTES) {
          throw new WardenError(
            'bundle.invalid',
            `bundle is larger than ${MAX_BUNDLE_BYTES} bytes`,
          );
        }
        files.set(relative(dir, full).split(sep).join('/'), await readFile(full));
      }
    }
  };
  await walk(dir);
  return files;
}

export async function readBundlePath(path: string): Promise<BundleFiles> {
  const info = await stat(path);
  if (info.isDirectory()) return readBundleDirectory(path);
  return readTarGz(await readFile(path));
}
