import assert from 'node:assert/strict';
import { type Duplex, duplexPair } from 'node:stream';
import { test } from 'node:test';
import { InProcessTransport } from './in-process.ts';

/** A transport whose connections end at `serve`, which sees each request's text and answers raw bytes. */
function fakeServer(serve: (request: string, socket: Duplex) => void) {
  const sockets: Duplex[] = [];
  const transport = new InProcessTransport(() => {
    const [client, server] = duplexPair();
    sockets.push(server);
    let buf = '';
    server.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      const request = buf.slice(0, end + 4 + length);
      buf = buf.slice(end + 4 + length);
      serve(request, server);
    });
    return client;
  }, 'example:6443');
  return { transport, sockets };
}

/** Write `text` to the socket in pieces of `size` bytes, a turn of the event loop apart. */
async function dribble(socket: Duplex, text: string | Buffer, size: number): Promise<void> {
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let i = 0; i < b.length; i += size) {
    socket.write(b.subarray(i, i + size));
    await new Promise((r) => setImmediate(r));
  }
}

test('in-process transport: requests, bodies of known length and chunked, split anywhere', async () => {
  const seen: string[] = [];
  const { transport, sockets } = fakeServer((request, socket) => {
    seen.push(request);
    const path = request.split(' ')[1];
    if (path === '/length')
      void dribble(socket, 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX: y\r\n\r\nhello world', 3);
    else if (path === '/chunked') {
      const body = Buffer.from('é'.repeat(5)); // two bytes each: split between chunks
      const answer = Buffer.concat([
        Buffer.from('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n'),
        body.subarray(0, 3),
        Buffer.from('\r\n7\r\n'),
        body.subarray(3),
        Buffer.from('\r\n0\r\n\r\n'),
      ]);
      void dribble(socket, answer, 2);
    } else socket.write('HTTP/1.1 204 No Content\r\n\r\n');
  });
  const a = await transport.request(
    'POST',
    '/length',
    'accept: application/json\r\n',
    Buffer.from('{"a":1}'),
  );
  assert.equal(a.status, 200);
  assert.equal(await a.text(), 'hello world');
  assert.equal(
    seen[0],
    'POST /length HTTP/1.1\r\nhost: example:6443\r\naccept: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}',
  );
  const b = await transport.request('GET', '/chunked', '', undefined);
  assert.equal(b.status, 201);
  assert.equal(await b.text(), 'é'.repeat(5));
  const c = await transport.request('GET', '/empty', '', undefined);
  assert.equal(c.status, 204);
  assert.equal(await c.text(), '');
  assert.equal(sockets.length, 1, 'one connection, kept for each next request');
  transport.close();
});

test('in-process transport: parallel requests take their own connections; Connection: close is not reused', async () => {
  const { transport, sockets } = fakeServer((request, socket) => {
    const path = request.split(' ')[1];
    const close = path === '/close' ? 'Connection: close\r\n' : '';
    setTimeout(
      () => socket.write(`HTTP/1.1 200 OK\r\n${close}Content-Length: ${path.length}\r\n\r\n${path}`),
      5,
    );
  });
  const answers = await Promise.all(
    ['/a', '/b', '/c'].map((p) => transport.request('GET', p, '', undefined)),
  );
  assert.deepEqual(await Promise.all(answers.map((a) => a.text())), ['/a', '/b', '/c']);
  assert.equal(sockets.length, 3);
  await (await transport.request('GET', '/close', '', undefined)).text();
  await (await transport.request('GET', '/d', '', undefined)).text();
  await (await transport.request('GET', '/e', '', undefined)).text();
  assert.equal(sockets.length, 3, 'the closed one was replaced by an idle one');
  transport.close();
});

test('in-process transport: a stream arrives as it is written; an abort ends it and only it', async () => {
  let stream: Duplex | undefined;
  const { transport, sockets } = fakeServer((request, socket) => {
    if (request.startsWith('GET /watch')) {
      stream = socket;
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n');
    } else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  // a finished request's signal, aborted later, leaves its (reused) connection alone
  const old = new AbortController();
  await (await transport.request('GET', '/x', '', undefined, old.signal)).text();
  const ac = new AbortController();
  const watch = await transport.request('GET', '/watch', '', undefined, ac.signal);
  assert.equal(sockets.length, 1, 'the watch reuses the idle connection');
  old.abort();
  const got: string[] = [];
  const reading = (async () => {
    for await (const c of watch.chunks()) {
      got.push(c.toString());
      if (got.length === 1) stream!.write('6\r\nsecond\r\n');
      if (got.length === 2) ac.abort();
    }
  })();
  await assert.rejects(reading, /aborted/);
  assert.deepEqual(got, ['first', 'second']);
  assert.equal(await (await transport.request('GET', '/y', '', undefined)).text(), 'ok');
  assert.equal(sockets.length, 2, 'the aborted connection is gone');
  await assert.rejects(transport.request('GET', '/z', '', undefined, AbortSignal.abort()));
  transport.close();
});

test('in-process transport: a cut connection fails what is pending; a bad answer closes it', async () => {
  const { transport } = fakeServer((request, socket) => {
    if (request.startsWith('GET /cut')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    else if (request.startsWith('GET /never')) socket.destroy();
    else socket.write('nonsense\r\n\r\n');
  });
  const cut = await transport.request('GET', '/cut', '', undefined);
  await assert.rejects(cut.text(), /aborted/);
  await assert.rejects(transport.request('GET', '/never', '', undefined), /aborted/);
  await assert.rejects(transport.request('GET', '/bad', '', undefined), /aborted/);
  transport.close();
});
