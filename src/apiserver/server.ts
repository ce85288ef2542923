/**
 * The API server: HTTPS with client-certificate authentication, routing of every request
 * to discovery, OpenAPI, health, or the generic REST handlers over the registry.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { StatusError } from '../api/errors.ts';
import type { ResourceDef } from '../api/resource.ts';
import { Ctx, type ServerParts, type User, writeError, writeObject } from './context.ts';
import {
  AGGREGATED_TYPE,
  AGGREGATED_V2BETA1_TYPE,
  aggregated,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
} from './discovery.ts';
import { podOrTokenSubresource } from './handlers/connect.ts';
import { create } from './handlers/create.ts';
import { del, deleteCollection } from './handlers/delete.ts';
import { get } from './handlers/get.ts';
import { list } from './handlers/list.ts';
import { patch } from './handlers/patch.ts';
import { virtualCreate } from './handlers/review.ts';
import { binding, eviction, scale } from './handlers/subresources.ts';
import { update } from './handlers/update.ts';
import { watch } from './handlers/watch.ts';
import { parseAccept } from './negotiation.ts';
import { OpenApi } from './openapi.ts';
import { parseResourcePath, splitTarget } from './request-info.ts';

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-skiff',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

/** A connection's client certificate does not change: decode it once per connection, not per request. */
const users = new WeakMap<object, User | null>();

/** Fix the user of a connection that carries no certificate (an in-process one). */
export function authenticateConnection(socket: object, user: User): void {
  users.set(socket, user);
}

/** Who sent the request: the verified client certificate's CN and O's, or undefined. */
export function authenticate(req: IncomingMessage): User | undefined {
  const sock = req.socket as TLSSocket;
  const known = users.get(sock);
  if (known !== undefined) return known ?? undefined;
  const user = certificateUser(sock);
  users.set(sock, user ?? null);
  return user;
}

function certificateUser(sock: TLSSocket): User | undefined {
  if (!sock.authorized) return undefined;
  const cert = sock.getPeerCertificate();
  if (!cert?.subject?.CN) return undefined;
  const o = cert.subject.O;
  const cn = cert.subject.CN;
  return { name: Array.isArray(cn) ? cn[0] : cn, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

function notFoundPath(): StatusError {
  return new StatusError('NotFound', 'the server could not find the requested resource');
}

function methodNotAllowed(method: string, what: string): StatusError {
  return new StatusError(
    'MethodNotAllowed',
    `the server does not allow this method on the requested resource: ${method} ${what}`,
  );
}

export class ApiHandler {
  readonly parts: ServerParts;
  readonly openapi: OpenApi;
  /** How the server is reached, for `/api`'s serverAddressByClientCIDRs. */
  address = '127.0.0.1:6443';
  /** Readiness (`/readyz`): false until boot has finished. */
  ready = false;

  constructor(parts: ServerParts) {
    this.parts = parts;
    this.openapi = new OpenApi(parts.registry);
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.#route(req, res).catch((e) => writeError(res, e));
  };

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname, query } = splitTarget(req.url ?? '/');
    const path =
      pathname.length > 1 && pathname.endsWith('/') ? pathname.replace(/\/+$/, '') || '/' : pathname;
    const method = req.method ?? 'GET';
    if (
      path === '/healthz' ||
      path === '/livez' ||
      path === '/readyz' ||
      path.startsWith('/healthz/') ||
      path.startsWith('/livez/')
    ) {
      const ok = path !== '/readyz' || this.ready;
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'ok' : 'not ready');
      return;
    }
    const auth = this.parts.auth;
    let user = authenticate(req) ?? (auth && (await auth.authenticateBearer(req)));
    if (!user) {
      req.resume();
      throw new StatusError('Unauthorized', 'Unauthorized');
    }
    if (auth) user = await auth.admit(req, user, method, path, query);
    if (path === '/version') return writeObject(res, 200, VERSION_INFO);
    if (auth && (path === '/.well-known/openid-configuration' || path === '/openid/v1/jwks')) {
      return writeObject(res, 200, path === '/openid/v1/jwks' ? auth.tokens.jwks() : auth.tokens.discovery());
    }
    const { registry } = this.parts;
    if (path === '/api' || path === '/apis') {
      const legacy = path === '/api';
      const accepted = aggregatedVersion(req.headers.accept);
      if (accepted) {
        res.writeHead(200, {
          'Content-Type': accepted === 'v2' ? AGGREGATED_TYPE : AGGREGATED_V2BETA1_TYPE,
          Vary: 'Accept',
        });
        res.end(JSON.stringify(aggregated(registry, legacy, accepted)));
        return;
      }
      return writeObject(res, 200, legacy ? apiVersions(this.address) : apiGroupList(registry));
    }
    if (path === '/openapi/v2') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(this.openapi.v2());
      return;
    }
    if (path === '/openapi/v3') return writeObject(res, 200, this.openapi.v3Index());
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.openapi.v3(path.slice('/openapi/v3/'.length));
      if (!doc) throw notFoundPath();
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, immutable' });
      res.end(doc);
      return;
    }
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = apiGroup(registry, parts[1]);
      if (!g) throw notFoundPath();
      return writeObject(res, 200, g);
    }
    const info = parseResourcePath(path);
    if (!info) throw notFoundPath();
    if (!info.resource) {
      const list = apiResourceList(registry, info.group, info.version);
      if (!list) throw notFoundPath();
      return writeObject(res, 200, list);
    }
    const def = registry.byResource(info.group, info.version, info.resource);
    if (!def) throw notFoundPath();
    if (def.namespaced === false && info.namespace) throw notFoundPath();
    await this.#resource(new Ctx(req, res, query, info, def, this.parts, user), method);
  }

  async #resource(ctx: Ctx, method: string): Promise<void> {
    const { def, info } = ctx;
    const sub = info.subresource;
    const allow = (verb: string) => {
      if (!def.verbs.includes(verb)) throw methodNotAllowed(method, `${def.plural}${sub ? `/${sub}` : ''}`);
    };
    if (def.virtual) return virtualCreate(ctx, method);
    if (sub) {
      const known = subresourceKnown(def, sub);
      if (!known) throw notFoundPath();
      const extra = podOrTokenSubresource(ctx, method);
      if (extra) return extra;
      if (sub === 'scale') {
        if (method === 'GET') return scale(ctx, 'get');
        if (method === 'PUT') return scale(ctx, 'update');
        if (method === 'PATCH') return scale(ctx, 'patch');
      } else if (sub === 'status' || sub === 'finalize') {
        if (method === 'GET' && sub === 'status') return get(ctx);
        if (method === 'PUT') return update(ctx);
        if (method === 'PATCH' && sub === 'status') return patch(ctx);
      } else if (sub === 'binding' && method === 'POST') return binding(ctx);
      else if (sub === 'eviction' && method === 'POST') return eviction(ctx);
      else
        throw new StatusError(
          'NotFound',
          `the server could not find the requested resource (${method} ${def.plural}/${sub})`,
        );
      throw methodNotAllowed(method, `${def.plural}/${sub}`);
    }
    const watching = ['1', 'true'].includes(ctx.query.get('watch') ?? '');
    if (info.name) {
      switch (method) {
        case 'GET':
          if (watching) {
            allow('watch');
            return watch(ctx);
          }
          allow('get');
          return get(ctx);
        case 'PUT':
          allow('update');
          return update(ctx);
        case 'PATCH':
          allow('patch');
          return patch(ctx);
        case 'DELETE':
          allow('delete');
          return del(ctx);
      }
      throw methodNotAllowed(method, def.plural);
    }
    switch (method) {
      case 'GET':
        if (watching) {
          allow('watch');
          return watch(ctx);
        }
        allow('list');
        return list(ctx);
      case 'POST':
        allow('create');
        return create(ctx);
      case 'DELETE':
        allow('deletecollection');
        return deleteCollection(ctx);
    }
    throw methodNotAllowed(method, def.plural);
  }
}

function subresourceKnown(def: ResourceDef, sub: string): boolean {
  if (sub === 'status') return !!(def.hasStatus || def.subresources?.status);
  if (sub === 'scale') return !!def.subresources?.scale;
  if (sub === 'finalize') return def.plural === 'namespaces';
  return (def.subresources?.extra ?? []).includes(sub);
}

function aggregatedVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const r of parseAccept(accept)) {
    if (r.params.as === 'APIGroupDiscoveryList' && r.params.g === 'apidiscovery.k8s.io') {
      if (r.params.v === 'v2') return 'v2';
      if (r.params.v === 'v2beta1') return 'v2beta1';
    }
    if (!r.params.as) return undefined;
  }
  return undefined;
}

export interface ListenOptions {
  port: number;
  host: string;
  cert: string;
  key: string;
  ca: string;
}

/** An HTTPS server that asks for a client certificate and verifies it against the CA. */
export function createHttpsServer(handler: ApiHandler, o: ListenOptions): https.Server {
  const server = https.createServer(
    {
      cert: o.cert,
      key: o.key,
      ca: o.ca,
      requestCert: true,
      rejectUnauthorized: false,
      keepAliveTimeout: 65_000,
    },
    handler.handle,
  );
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  return server;
}
