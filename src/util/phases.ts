import fs from 'node:fs';

/**
 * Optional phase timing for performance work: with `SKIFF_PHASES=<file>` in the environment, the
 * returned `phase(tag, name, t0)` appends `{"c":<component>,"tag":..,"phase":..,"ms":..}` lines to
 * that file and returns the current time. Off (one env lookup) otherwise.
 */
export function phaseTimer(component: string): (tag: string, name: string, since: number) => number {
  return (tag, name, since) => {
    const now = performance.now();
    const file = process.env.SKIFF_PHASES;
    if (file) {
      const line = JSON.stringify({
        c: component,
        tag: tag.slice(0, 12),
        phase: name,
        ms: +(now - since).toFixed(1),
        at: Math.round(performance.timeOrigin + now),
      });
      fs.appendFileSync(file, `${line}\n`);
    }
    return now;
  };
}
