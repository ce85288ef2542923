import fs from 'node:fs';
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
  for (const [service, target] of [
    ['RuntimeService', impl.runtime],
    ['ImageService', impl.image],
  ] as const) {
    const def = services[service].service;
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(def)) {
      const fnName = camel(method.originalName ?? name);
      if (method.requestStream || method.responseStream) {
        handlers[name] = (call: grpc.ServerWritableStream<any, any>) => {
          call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` });
        };
        continue;
      }
      handlers[name] = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
        const fn = target[fnName];
        if (typeof fn !== 'function') {
          callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` });
          return;
        }
        Promise.resolve()
          .then(() => fn.call(target, call.request))
          .then(
            (res) => callback(null, res ?? {}),
            (err: unknown) => {
              const code = err instanceof CriError ? err.code : grpc.status.INTERNAL;
              callback({ code, details: err instanceof Error ? err.message : String(err) });
            },
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
  return {
    socket,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          fs.rmSync(socket, { force: true });
          resolve();
        });
      }),
  };
}
