/**
 * Runs an nft script as one transaction (`nft -f -`): the kernel applies all of it or none.
 * Shared by the service proxy and network policy, which each own one table.
 */
import { spawn } from 'node:child_process';

export function nftApply(script: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'], timeout: timeoutMs });
    let stderr = '';
    child.stderr.on('data', (d) => {
      if (stderr.length < 8192) stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`nft -f failed (${code}): ${stderr.trim()}`));
    });
    child.stdin.end(script);
  });
}

/** Deletes a table if it exists (`add` first makes the delete unconditional). */
export function nftDeleteTable(family: string, table: string): Promise<void> {
  return nftApply(`add table ${family} ${table}\ndelete table ${family} ${table}\n`);
}

/** The text of `nft list ruleset`, for tests and debugging. */
export function nftListRuleset(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nft', ['list', 'ruleset'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`nft list ruleset: ${code}`))));
  });
}
