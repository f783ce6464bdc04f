import { WardenError } from '../errors.js';
import type { BundleFiles } from './bundle-files.js';
import { type VerificationKey, verifyBundleSignature } from './bundle-signature.js';

/** The parts of an OPA `.manifest` Warden reads. */
export interface Manifest {
  revision: string;
  roots: string[];
  wasm: { entrypoint: string; module: string }[];
  metadata: Record<string, unknown>;
}

/** A verified, parsed bundle: what the engine compiles and evaluates. */
export interface PolicyBundle {
  manifest: Manifest;
  wasm: Buffer;
  data: Record<string, unknown>;
}

function parseManifest(files: BundleFiles): Manifest {
  const raw = files.get('.manifest');
  if (!raw) throw new WardenError('bundle.invalid', 'bundle has no .manifest');
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new WardenError('bundle.invalid', '.manifest is not valid JSON');
  }
  const wasm = Array.isArray(m.wasm) ? m.wasm : [];
  return {
    revision: typeof m.revision === 'string' ? m.revision : '',
    roots: Array.isArray(m.roots) ? m.roots.map(String) : [''],
    wasm: wasm.map((w: Record<string, unknown>) => ({
      entrypoint: String(w.entrypoint),
      module: String(w.module),
    })),
    metadata: (m.metadata && typeof m.metadata === 'object' ? m.metadata : {}) as Record<
      string,
      unknown
    >,
  };
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      throw new WardenError('bundle.invalid', `data conflicts at ${path.join('/')}`);
    }
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last === undefined) Object.assign(target, value);
  else if (node[last] && typeof node[last] === 'object' && value && typeof value === 'object') {
    Object.assign(node[last] as object, value);
  } else node[last] = value;
}

/** Merges every `data.json` of the bundle at the path of its directory, as OPA does. */
function parseData(files: BundleFiles, roots: string[]): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [name, content] of files) {
    if (name !== 'data.json' && !name.endsWith('/data.json')) continue;
    const dir = name.slice(0, -'data.json'.length).replace(/\/$/, '');
    let value: unknown;
    try {
      value = JSON.parse(content.toString('utf8'));
    } catch {
      throw new WardenError('bundle.invalid', `${name} is not valid JSON`);
    }
    const path = dir ? dir.split('/') : [];
    if (
      path.length === 0 &&
      (value === null || typeof value !== 'object' || Array.isArray(value))
    ) {
      throw new WardenError('bundle.invalid', `${name} must hold a JSON object`);
    }
    checkWithinRoots(path, value, roots, name);
    setPath(data, path, value);
  }
  return data;
}

function checkWithinRoots(path: string[], value: unknown, roots: string[], name: string): void {
  if (roots.includes('')) return;
  const leaves = path.length > 0 ? [path.join('/')] : Object.keys(value as object);
  for (const leaf of leaves) {
    const inside = roots.some(
      (r) => leaf === r || leaf.startsWith(`${r}/`) || r.startsWith(`${leaf}/`),
    );
    if (!inside)
      throw new WardenError(
        'bundle.invalid',
        `${name} writes data/${leaf}, outside the manifest roots`,
      );
  }
}

/**
 * Verifies (when a key is given) and parses a bundle. Throws a WardenError
 * naming what is wrong; a bundle that fails here is never evaluated.
 */
export async function openBundle(
  files: BundleFiles,
  entrypoint: string,
  verification: VerificationKey | null,
): Promise<PolicyBundle> {
  if (verification) await verifyBundleSignature(files, verification);
  const manifest = parseManifest(files);
  if (!manifest.revision)
    throw new WardenError('bundle.invalid', 'bundle manifest has no revision');
  const resolver = manifest.wasm.find((w) => w.entrypoint === entrypoint);
  if (!resolver)
    throw new WardenError(
      'bundle.invalid',
      `bundle has no wasm module for entrypoint ${entrypoint}`,
    );
  const wasm = files.get(resolver.module.replace(/^\/+/, ''));
  if (!wasm) throw new WardenError('bundle.invalid', `bundle lacks ${resolver.module}`);
  return { manifest, wasm, data: parseData(files, manifest.roots) };
}
