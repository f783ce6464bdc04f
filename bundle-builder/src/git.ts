import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { simpleGit } from 'simple-git';
import { WardenError } from '../../gateway/src/errors.js';

export interface CommitInfo {
  sha: string;
  author: string;
  time: string;
  subject: string;
}

export interface Checkout extends CommitInfo {
  dir: string;
  remove(): Promise<void>;
}

/** A local path becomes absolute; URLs (https, ssh, file) pass unchanged. */
export function repoLocation(repo: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^:]+:/.test(repo) || isAbsolute(repo)
    ? repo
    : resolve(repo);
}

/** Clones `repo` into a temporary directory and checks out `ref` (branch, tag or commit SHA). */
export async function checkout(repo: string, ref: string): Promise<Checkout> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-policy-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await simpleGit().clone(repoLocation(repo), dir, ['--no-checkout', '--quiet']);
    const git = simpleGit(dir);
    const sha = await resolveRef(git, ref);
    await git.raw(['checkout', '--quiet', '--detach', sha]);
    const [author, time, subject] = (
      await git.raw(['show', '-s', '--format=%an <%ae>%n%cI%n%s', sha])
    )
      .trimEnd()
      .split('\n');
    return { dir, sha, author: author ?? '', time: time ?? '', subject: subject ?? '', remove };
  } catch (err) {
    await remove();
    if (err instanceof WardenError) throw err;
    throw new WardenError(
      'bundle.build',
      `cannot fetch ${repo} at ${ref}: ${(err as Error).message.trim()}`,
    );
  }
}

async function resolveRef(git: ReturnType<typeof simpleGit>, ref: string): Promise<string> {
  for (const candidate of [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref]) {
    // A failing `rev-parse --quiet` prints nothing, and simple-git does not always throw for it.
    const sha = (
      await git.raw(['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`]).catch(() => '')
    ).trim();
    if (/^[0-9a-f]{40,64}$/.test(sha)) return sha;
  }
  throw new WardenError('bundle.build', `ref ${ref} not found in the repository`);
}

/** The commit a branch (or tag) points at on the remote, without cloning. */
export async function remoteHead(repo: string, ref: string): Promise<string | null> {
  const out = await simpleGit().listRemote([
    repoLocation(repo),
    `refs/heads/${ref}`,
    `refs/tags/${ref}`,
  ]);
  const line = out.split('\n').find((l) => l.trim());
  return line ? line.split(/\s+/)[0]! : /^[0-9a-f]{40}$/.test(ref) ? ref : null;
}
