// The conformance suite once more, through a client that calls Skiff's runtime in this process
// directly, as a Skiff node's agent does (criClient's sameProcess).
import { startTestRuntime } from '../runtime/testing.ts';
import { describeCriConformance } from './conformance.ts';

describeCriConformance('skiff, same process', async () => {
  const rt = await startTestRuntime();
  return { endpoint: rt.endpoint, image: rt.image.name, sameProcess: true, close: () => rt.destroy() };
});
