import { describeCriConformance } from '../cri/conformance.ts';
import { startTestContainerd } from './test-containerd.ts';

// The same CRI conformance suite, against Debian's containerd 1.6: the alternative endpoint.
describeCriConformance('containerd', async () => {
  const cd = await startTestContainerd();
  return { endpoint: cd.endpoint, image: cd.image, close: () => cd.close() };
});
