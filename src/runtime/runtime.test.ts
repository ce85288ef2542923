import { describeCriConformance } from '../cri/conformance.ts';
import { startTestRuntime } from './testing.ts';

describeCriConformance('skiff', async () => {
  const rt = await startTestRuntime();
  return { endpoint: rt.endpoint, image: rt.image.name, close: () => rt.destroy() };
});
