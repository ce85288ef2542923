import * as grpc from '@grpc/grpc-js';
import { CriError } from './errors.ts';
import { camel, loadCri } from './proto.ts';
import { errorStatus, handlerFor, servedInProcess } from './server.ts';
import type { ImageService, RuntimeService } from './types.ts';

/** A CRI client: every RuntimeService and ImageService RPC as an async function. */
export type CriClient = RuntimeService &
  ImageService & {
    /** Calls any unary RPC by wire name, e.g. `call('RuntimeService', 'PodSandboxStats', {...})`. */
    call(service: 'RuntimeService' | 'ImageService', method: string, req: object): Promise<any>;
    close(): void;
  };

export interface CriClientOptions {
  /** Deadline of each call (default 120 s). */
  timeoutMs?: number;
  /**
   * While this process itself serves the endpoint's socket (`serveCri`: a Skiff node's runtime
   * and its agent), call the implementation directly rather than through gRPC: each request and
   * answer still goes through the protobuf encoding, so both sides see exactly what the wire
   * would carry, errors keep their codes and the deadline holds; what goes is HTTP/2, the
   * socket and gRPC's per-call machinery (most of an idle node's CPU and garbage). Any other
   * time, e.g. after the runtime moved to another process, calls go over the socket.
   */
  sameProcess?: boolean;
}

type Service = 'RuntimeService' | 'ImageService';

/**
 * Connects to a CRI endpoint such as `unix:///run/skiff/runtime.sock` (a bare path works too).
 *
 *   const cri = criClient('unix:///tmp/x/cri.sock');
 *   const { podSandboxId } = await cri.runPodSandbox({ config: { metadata: {...} } });
 *   cri.close();
 */
export function criClient(endpoint: string, options: CriClientOptions = {}): CriClient {
  const target = endpoint.startsWith('/') ? `unix://${endpoint}` : endpoint;
  const socket = options.sameProcess ? /^unix:(?:\/\/)?(.+)$/.exec(target)?.[1] : undefined;
  const services = loadCri();
  const timeoutMs = options.timeoutMs ?? 120_000;
  // made on the first call that goes over the socket
  let stubs: Record<Service, grpc.Client> | undefined;
  let closed = false;
  const stub = (service: Service) => {
    if (!stubs) {
      const creds = grpc.credentials.createInsecure();
      const opts = { 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 };
      stubs = {
        RuntimeService: new services.RuntimeService(target, creds, opts),
        ImageService: new services.ImageService(target, creds, opts),
      };
    }
    return stubs[service] as any;
  };

  const overSocket = (service: Service, method: string, req: object): Promise<any> => {
    const s = stub(service);
    const fn = s[method] ?? s[camel(method)];
    if (typeof fn !== 'function') return Promise.reject(new Error(`no RPC ${service}.${method}`));
    return new Promise((resolve, reject) => {
      fn.call(s, req, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: any) => {
        if (err) reject(new CriError(err.code, err.details || err.message, { cause: err }));
        else resolve(res);
      });
    });
  };

  const direct = (
    impl: NonNullable<ReturnType<typeof servedInProcess>>,
    service: Service,
    method: string,
    req: object,
  ): Promise<any> => {
    const svc = services[service].service;
    const name = svc[method] ? method : Object.keys(svc).find((k) => camel(k) === method);
    if (!name) return Promise.reject(new Error(`no RPC ${service}.${method}`));
    const def = svc[name];
    // serveCri answers streaming RPCs itself (UNIMPLEMENTED); only unary ones are called directly
    if (def.requestStream || def.responseStream) return overSocket(service, method, req);
    const fn = handlerFor(impl, service, def, name);
    if (!fn) return Promise.reject(new CriError(grpc.status.UNIMPLEMENTED, `${name} is not implemented`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CriError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded')),
        timeoutMs,
      );
      Promise.resolve()
        .then(() => fn(def.requestDeserialize(def.requestSerialize(req))))
        .then((res) => def.responseDeserialize(def.responseSerialize(res ?? {})))
        .then(resolve, (err: unknown) => {
          const { code, details } = errorStatus(err);
          reject(new CriError(code, details, { cause: err }));
        })
        .finally(() => clearTimeout(timer));
    });
  };

  const call = (service: Service, method: string, req: object): Promise<any> => {
    if (closed) return Promise.reject(new Error('the CRI client is closed'));
    const impl = socket === undefined ? undefined : servedInProcess(socket);
    return impl ? direct(impl, service, method, req) : overSocket(service, method, req);
  };
  const client: Record<string, unknown> = {
    call,
    close() {
      closed = true;
      stubs?.RuntimeService.close();
      stubs?.ImageService.close();
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
