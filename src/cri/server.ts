import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CriError } from './errors.ts';
import { camel, loadCri } from './proto.ts';
import type { ImageService, RuntimeService } from './types.ts';

/** What a CRI implementation provides; RPCs it leaves out answer UNIMPLEMENTED. */
export interface CriImplementation {
  runtime: Partial<RuntimeService> & Record<string, unknown>;
  image: Partial<ImageService> & Record<string, unknown>;
}

export interface CriServer {
  /** The unix socket path served. */
  socket: string;
  close(): Promise<void>;
}

/**
 * The implementations this process serves, by socket path, for `criClient(..., { sameProcess })`.
 * Like the socket itself it is process-wide; an entry lives exactly as long as its server.
 */
const servedHere = new Map<string, CriImplementation>();

/** The implementation serving `socket` in this process, if any. */
export function servedInProcess(socket: string): CriImplementation | undefined {
  return servedHere.get(path.resolve(socket));
}

type Handler = (req: any) => unknown;

/** The implementation's function for a method (`RunPodSandbox` → `runtime.runPodSandbox`). */
export function handlerFor(
  impl: CriImplementation,
  service: 'RuntimeService' | 'ImageService',
  method: grpc.MethodDefinition<any, any> & { originalName?: string },
  name: string,
): Handler | undefined {
  const target = service === 'RuntimeService' ? impl.runtime : impl.image;
  const fn = target[camel(method.originalName ?? name)];
  return typeof fn === 'function' ? (req) => fn.call(target, req) : undefined;
}

/** How a thrown error travels: a CriError keeps its code, anything else is INTERNAL. */
export function errorStatus(err: unknown): { code: grpc.status; details: string } {
  return {
    code: err instanceof CriError ? err.code : grpc.status.INTERNAL,
    details: err instanceof Error ? err.message : String(err),
  };
}

/**
 * Serves a CRI implementation on a unix socket (an existing stale socket file is replaced).
 * Each handler is an async function of the request; a thrown CriError keeps its gRPC code,
 * any other error is INTERNAL.
 */
export async function serveCri(socket: string, impl: CriImplementation): Promise<CriServer> {
  const services = loadCri();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
  });
  for (const service of ['RuntimeService', 'ImageService'] as const) {
    const def = services[service].service;
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(def)) {
      if (method.requestStream || method.responseStream) {
        handlers[name] = (call: grpc.ServerWritableStream<any, any>) => {
          call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` });
        };
        continue;
      }
      handlers[name] = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
        const fn = handlerFor(impl, service, method, name);
        if (!fn) {
          callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` });
          return;
        }
        Promise.resolve()
          .then(() => fn(call.request))
          .then(
            (res) => callback(null, res ?? {}),
            (err: unknown) => callback(errorStatus(err)),
          );
      };
    }
    server.addService(def, handlers);
  }
  fs.rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  const key = path.resolve(socket);
  servedHere.set(key, impl);
  return {
    socket,
    close: () =>
      new Promise<void>((resolve) => {
        if (servedHere.get(key) === impl) servedHere.delete(key);
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          fs.rmSync(socket, { force: true });
          resolve();
        });
      }),
  };
}
