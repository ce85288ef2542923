import { phaseTimer } from '../util/phases.ts';

/** Phase timing of the agent (see src/util/phases.ts). */
export const phase = phaseTimer('agent');
