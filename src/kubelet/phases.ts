import fs from 'node:fs';

/**
 * Optional phase timing for performance work: with `SKIFF_PHASES=<file>` in the environment,
 * `phase(tag, name, t0)` appends `{"c":"runtime","tag":..,"phase":..,"ms":..}` lines to that file.
 * Off (one env lookup) otherwise.
 */
export function phase(tag: string, name: string, since: number): number {
  const now = performance.now();
  const file = process.env.SKIFF_PHASES;
  if (file) {
    const line = JSON.stringify({
      c: 'agent',
      tag: tag.slice(0, 12),
      phase: name,
      ms: +(now - since).toFixed(1),
      at: Math.round(performance.timeOrigin + now),
    });
    fs.appendFileSync(file, `${line}\n`);
  }
  return now;
}
