import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { PROJECT_ROOT } from '../../gateway/src/paths.js';

/** A real Git repository holding a copy of the project's default policy and masking rules. */
export class PolicyRepo {
  readonly dir: string;
  readonly git: SimpleGit;

  private constructor(dir: string) {
    this.dir = dir;
    this.git = simpleGit(dir);
  }

  static async create(): Promise<PolicyRepo> {
    const dir = await mkdtemp(join(tmpdir(), 'warden-test-repo-'));
    for (const sub of ['policies', 'masking-rules']) {
      await cp(join(PROJECT_ROOT, sub), join(dir, sub), { recursive: true });
    }
    const repo = new PolicyRepo(dir);
    await repo.git.init(['--quiet', '--initial-branch=main']);
    await repo.git
      .addConfig('user.name', 'Security Engineer')
      .addConfig('user.email', 'sec@example.com');
    await repo.commit('Initial policy');
    return repo;
  }

  async write(path: string, content: string): Promise<void> {
    await mkdir(dirname(join(this.dir, path)), { recursive: true });
    await writeFile(join(this.dir, path), content);
  }

  /** Commits everything and returns the new commit's SHA. */
  async commit(message: string): Promise<string> {
    await this.git.add('.');
    await this.git.commit(message, ['--allow-empty']);
    return (await this.git.revparse(['HEAD'])).trim();
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}
