import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { BundleFiles } from '../../gateway/src/policy/bundle-files.js';

/** Writes bundle files back into a .tar.gz, as someone tampering with a bundle would. */
export async function writeTarGz(files: BundleFiles): Promise<Buffer> {
  const tar = pack();
  for (const [name, content] of files) tar.entry({ name: `/${name}` }, content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}
