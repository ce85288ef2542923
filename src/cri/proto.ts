import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';

/** Where Skiff's runtime.v1 api.proto lives. */
export const CRI_PROTO_PATH = fileURLToPath(new URL('./api.proto', import.meta.url));

/**
 * How messages appear in JavaScript (see types.ts): camelCase fields, enum names as strings,
 * int64 as number, all defaults filled in.
 */
const LOADER_OPTIONS: loader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
};

export interface CriServices {
  RuntimeService: grpc.ServiceClientConstructor;
  ImageService: grpc.ServiceClientConstructor;
}

/** Loads api.proto (a fresh load each call: cheap, and keeps the module free of shared state). */
export function loadCri(): CriServices {
  const def = loader.loadSync(CRI_PROTO_PATH, LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as any;
  return { RuntimeService: pkg.runtime.v1.RuntimeService, ImageService: pkg.runtime.v1.ImageService };
}

/** gRPC method names (PascalCase, as on the wire) → our camelCase function names. */
export function camel(name: string): string {
  return name[0].toLowerCase() + name.slice(1);
}
