import { phaseTimer } from '../util/phases.ts';

/** Phase timing of the runtime (see src/util/phases.ts). */
export const phase = phaseTimer('runtime');
