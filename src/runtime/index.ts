/**
 * Skiff's container runtime: a CRI server (RuntimeService + ImageService) over runc, overlayfs
 * and a content-addressed image store.
 *
 *   const rt = await startRuntime({ root: '/var/lib/skiff/runtime', stateDir: '/run/skiff/runtime',
 *                                   socket: '/run/skiff/cri.sock', network: cniNetwork(...) });
 *   const cri = criClient(`unix://${rt.socket}`);
 *   ...
 *   await rt.close();   // stops serving; containers keep running, a new runtime finds them
 *
 * `root` holds images (blobs, snapshots, records); `stateDir` holds sandboxes, containers, runc's
 * state and the namespace files. Both survive restarts.
 */
import fs from 'node:fs';
import { serveCri } from '../cri/index.ts';
import { SkiffImageService } from './image-service.ts';
import { ImageStore } from './images.ts';
import type { PodNetwork } from './network.ts';
import { SkiffRuntimeService } from './runtime-service.ts';

export interface RuntimeOptions {
  root: string;
  stateDir: string;
  socket: string;
  network?: PodNetwork;
}

export interface RuntimeHandle {
  socket: string;
  /** the image store, e.g. to import archives directly (`skiff image import`) */
  images: ImageStore;
  close(): Promise<void>;
}

export async function startRuntime(opts: RuntimeOptions): Promise<RuntimeHandle> {
  fs.mkdirSync(opts.root, { recursive: true });
  fs.mkdirSync(opts.stateDir, { recursive: true });
  const images = new ImageStore(opts.root);
  const runtime = new SkiffRuntimeService({ stateDir: opts.stateDir, images, network: opts.network });
  const image = new SkiffImageService(images, () => runtime.snapshotsInUse());
  const server = await serveCri(opts.socket, {
    runtime: runtime as unknown as Record<string, unknown>,
    image: image as unknown as Record<string, unknown>,
  });
  return { socket: opts.socket, images, close: () => server.close() };
}

export { crictlMain } from './crictl.ts';
export { type ImageRecord, ImageStore } from './images.ts';
export type { PodNetwork, PodNetworkSandbox, PodPortMapping } from './network.ts';
export { pullImage } from './pull.ts';
export { formatReference, parseReference } from './reference.ts';
export { buildTestImage, TEST_IMAGE, type TestImage } from './testimage.ts';
