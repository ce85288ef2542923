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
import { serveCri, startStreamingServer } from '../cri/index.ts';
import { SkiffImageService } from './image-service.ts';
import { ImageStore } from './images.ts';
import type { PodNetwork } from './network.ts';
import type { RegistryMirror } from './pull.ts';
import { SkiffRuntimeService } from './runtime-service.ts';
import { streamingRuntime } from './streaming.ts';

export interface RuntimeOptions {
  root: string;
  stateDir: string;
  socket: string;
  network?: PodNetwork;
  /** the streaming server (Exec, Attach, PortForward URLs): 127.0.0.1 and a random port by default */
  streamingHost?: string;
  streamingPort?: number;
  /** registries tried first for every pull (the cluster registry); see `PullOptions.mirrors` */
  mirrors?: RegistryMirror[];
}

export interface RuntimeHandle {
  socket: string;
  /** the image store, e.g. to import archives directly (`skiff image import`) */
  images: ImageStore;
  /** `http://127.0.0.1:<port>`, the base of the URLs Exec, Attach and PortForward answer */
  streamingUrl: string;
  close(): Promise<void>;
}

export async function startRuntime(opts: RuntimeOptions): Promise<RuntimeHandle> {
  fs.mkdirSync(opts.root, { recursive: true });
  fs.mkdirSync(opts.stateDir, { recursive: true });
  const images = new ImageStore(opts.root);
  const runtime = new SkiffRuntimeService({ stateDir: opts.stateDir, images, network: opts.network });
  const image = new SkiffImageService(images, () => runtime.snapshotsInUse(), opts.mirrors);
  const streaming = await startStreamingServer(streamingRuntime(runtime), {
    host: opts.streamingHost,
    port: opts.streamingPort,
  });
  runtime.streaming = streaming;
  let server: Awaited<ReturnType<typeof serveCri>>;
  try {
    server = await serveCri(opts.socket, {
      runtime: runtime as unknown as Record<string, unknown>,
      image: image as unknown as Record<string, unknown>,
    });
  } catch (err) {
    await streaming.close();
    runtime.close();
    throw err;
  }
  return {
    socket: opts.socket,
    images,
    streamingUrl: streaming.baseUrl,
    close: async () => {
      await server.close();
      await streaming.close();
      runtime.close();
    },
  };
}

export { crictlMain } from './crictl.ts';
export { type ImageRecord, ImageStore } from './images.ts';
export { containerdMirrorConfig } from './mirrors.ts';
export type { PodNetwork, PodNetworkSandbox, PodPortMapping } from './network.ts';
export { type PullOptions, pullImage, type RegistryMirror } from './pull.ts';
export { formatReference, parseReference } from './reference.ts';
export {
  PAUSE_IMAGE,
  startTestContainerd,
  type TestContainerd,
  type TestContainerdOptions,
} from './test-containerd.ts';
export { buildTestImage, TEST_IMAGE, type TestImage, type TestImageOptions } from './testimage.ts';
