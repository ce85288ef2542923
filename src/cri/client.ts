import * as grpc from '@grpc/grpc-js';
import { CriError } from './errors.ts';
import { camel, loadCri } from './proto.ts';
import type { ImageService, RuntimeService } from './types.ts';

/** A CRI client: every RuntimeService and ImageService RPC as an async function. */
export type CriClient = RuntimeService &
  ImageService & {
    /** Calls any unary RPC by wire name, e.g. `call('RuntimeService', 'PodSandboxStats', {...})`. */
    call(service: 'RuntimeService' | 'ImageService', method: string, req: object): Promise<any>;
    close(): void;
  };

/**
 * Connects to a CRI endpoint such as `unix:///run/skiff/runtime.sock` (a bare path works too).
 *
 *   const cri = criClient('unix:///tmp/x/cri.sock');
 *   const { podSandboxId } = await cri.runPodSandbox({ config: { metadata: {...} } });
 *   cri.close();
 */
export function criClient(endpoint: string, options: { timeoutMs?: number } = {}): CriClient {
  const target = endpoint.startsWith('/') ? `unix://${endpoint}` : endpoint;
  const services = loadCri();
  const creds = grpc.credentials.createInsecure();
  const opts = { 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 };
  const stubs = {
    RuntimeService: new services.RuntimeService(target, creds, opts),
    ImageService: new services.ImageService(target, creds, opts),
  };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const call = (service: keyof typeof stubs, method: string, req: object): Promise<any> => {
    const stub = stubs[service] as any;
    const fn = stub[method] ?? stub[camel(method)];
    if (typeof fn !== 'function') return Promise.reject(new Error(`no RPC ${service}.${method}`));
    return new Promise((resolve, reject) => {
      fn.call(stub, req, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: any) => {
        if (err) reject(new CriError(err.code, err.details || err.message, { cause: err }));
        else resolve(res);
      });
    });
  };
  const client: Record<string, unknown> = {
    call,
    close() {
      stubs.RuntimeService.close();
      stubs.ImageService.close();
    },
  };
  for (const service of ['RuntimeService', 'ImageService'] as const) {
    const svc = services[service].service;
    for (const [name, def] of Object.entries(svc)) {
      if (def.requestStream || def.responseStream) continue;
      const key = camel(def.originalName ?? name);
      client[key] = (req: object) => call(service, name, req ?? {});
    }
  }
  return client as unknown as CriClient;
}
