import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { type CriClient, criClient } from './client.ts';
import { CriError, criNotFound, GrpcStatus } from './errors.ts';
import { type CriImplementation, serveCri } from './server.ts';

/** A small implementation that records what it was asked. */
function fakeRuntime() {
  const seen: unknown[] = [];
  const impl: CriImplementation = {
    runtime: {
      version: async (req: unknown) => {
        seen.push(req);
        return { runtimeName: 'fake', notInTheProto: 1 } as never;
      },
      listContainers: async (req: unknown) => {
        seen.push(req);
        return {
          containers: [
            { id: 'c1', state: 'CONTAINER_EXITED', createdAt: 1_700_000_000_123, labels: { a: 'b' } },
          ],
        } as never;
      },
      containerStatus: async () => {
        throw criNotFound('container c9');
      },
      removeContainer: async () => {
        throw new Error('disk on fire');
      },
      stopContainer: () => new Promise(() => {}) as never,
    },
    image: {},
  };
  return { impl, seen };
}

async function serve(t: TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cri-client-'));
  const socket = path.join(dir, 'cri.sock');
  const { impl, seen } = fakeRuntime();
  const server = await serveCri(socket, impl);
  const clients: CriClient[] = [];
  const client = (sameProcess: boolean, timeoutMs = 5000) => {
    const c = criClient(`unix://${socket}`, { sameProcess, timeoutMs });
    clients.push(c);
    return c;
  };
  t.after(async () => {
    for (const c of clients) c.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { socket, server, seen, client };
}

async function failure(p: Promise<unknown>): Promise<{ code: unknown; message: string; isCri: boolean }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as CriError).code, message: (e as Error).message, isCri: e instanceof CriError };
  }
  assert.fail('the call succeeded');
}

test('a same-process client sees and gets exactly what the socket carries', async (t) => {
  const { seen, client } = await serve(t);
  const wire = client(false);
  const direct = client(true);
  for (const c of [wire, direct]) {
    assert.deepEqual(await c.version({ version: 'v1' }), {
      version: '',
      runtimeName: 'fake',
      runtimeVersion: '',
      runtimeApiVersion: '',
    });
    const list = await c.listContainers({ filter: { labelSelector: { x: 'y' } } } as never);
    assert.equal(list.containers[0].state, 'CONTAINER_EXITED');
    assert.equal(list.containers[0].createdAt, 1_700_000_000_123);
    assert.deepEqual(list.containers[0].labels, { a: 'b' });
    assert.equal(list.containers[0].imageRef, '');
  }
  // the implementation saw the same decoded requests from both
  assert.equal(seen.length, 4);
  assert.deepEqual(seen[2], seen[0]);
  assert.deepEqual(seen[3], seen[1]);
  assert.deepEqual((seen[1] as any).filter.labelSelector, { x: 'y' });
  assert.equal((seen[1] as any).filter.id, '');
  // identical answers, field for field
  assert.deepEqual(await direct.listContainers({}), await wire.listContainers({}));
});

test('a same-process client fails as the socket does: codes, messages, deadlines', async (t) => {
  const { client } = await serve(t);
  const wire = client(false, 300);
  const direct = client(true, 300);
  for (const [call, code, message] of [
    [
      (c: CriClient) => c.containerStatus({ containerId: 'c9' }),
      GrpcStatus.NOT_FOUND,
      'container c9 not found',
    ],
    [(c: CriClient) => c.removeContainer({ containerId: 'c1' }), GrpcStatus.INTERNAL, 'disk on fire'],
    [
      (c: CriClient) => c.pullImage({ image: { image: 'x' } }),
      GrpcStatus.UNIMPLEMENTED,
      'PullImage is not implemented',
    ],
  ] as const) {
    const a = await failure(call(wire));
    const b = await failure(call(direct));
    assert.deepEqual(b, a);
    assert.deepEqual(b, { code, message, isCri: true });
  }
  const slow = await failure(direct.stopContainer({ containerId: 'c1', timeout: 0 }));
  assert.equal(slow.code, GrpcStatus.DEADLINE_EXCEEDED);
  assert.equal((await failure(wire.stopContainer({ containerId: 'c1', timeout: 0 }))).code, slow.code);
  await assert.rejects(direct.call('RuntimeService', 'NoSuchThing', {}), /no RPC RuntimeService.NoSuchThing/);
});

test('only while this process serves the socket do calls skip it', async (t) => {
  const { socket, server, client } = await serve(t);
  const direct = client(true, 2000);
  const wire = client(false, 2000);
  // with the socket file gone nobody can connect, yet the server is still this process's
  fs.rmSync(socket);
  assert.equal((await failure(wire.version({ version: 'v1' }))).code, GrpcStatus.UNAVAILABLE);
  assert.equal((await direct.version({ version: 'v1' })).runtimeName, 'fake');
  await server.close();
  assert.equal((await failure(direct.version({ version: 'v1' }))).code, GrpcStatus.UNAVAILABLE);
  direct.close();
  await assert.rejects(direct.version({ version: 'v1' }), /closed/);
});
