import { type ExecResult, execCommand, mustRun, type RunCommand } from './exec.ts';

/** runc with Skiff's own state directory (`--root`), never the system default. */
export class Runc {
  readonly root: string;
  readonly #run: RunCommand;
  /** `run` runs the short commands (state, kill, delete, update); exec always forks directly */
  constructor(root: string, run: RunCommand = execCommand) {
    this.root = root;
    this.#run = run;
  }

  args(...rest: string[]): string[] {
    return ['--root', this.root, ...rest];
  }

  async state(id: string): Promise<{ status: string; pid: number } | undefined> {
    const r = await this.#run('runc', this.args('state', id));
    if (r.exitCode !== 0) return undefined;
    return JSON.parse(r.stdout.toString());
  }

  async kill(id: string, signal: string): Promise<void> {
    await this.#run('runc', this.args('kill', id, signal));
  }

  async delete(id: string): Promise<void> {
    await this.#run('runc', this.args('delete', '--force', id));
  }

  exec(id: string, cmd: string[], timeoutMs?: number): Promise<ExecResult> {
    return execCommand('runc', this.args('exec', id, ...cmd), { timeoutMs });
  }

  async update(id: string, flags: string[]): Promise<void> {
    await mustRun('runc', this.args('update', ...flags, id), this.#run);
  }
}
