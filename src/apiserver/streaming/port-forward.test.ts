import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { CHANNEL_PROTOCOL, portForwardSession } from './port-forward.ts';
import { type Frame, FrameReader, FrameWriter } from './spdy-frames.ts';

/**
 * A fake agent speaking the v4 port-forward channels: the port first on both channels, then
 * data upper-cased back on channel 0; `bye` closes; port 9 answers an error and closes.
 */
async function fakeAgent(): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (offered) => (offered.has(CHANNEL_PROTOCOL) ? CHANNEL_PROTOCOL : false),
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws, req) => {
    const port = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('port'));
    const le = Buffer.alloc(2);
    le.writeUInt16LE(port);
    ws.send(Buffer.concat([Buffer.from([0]), le]));
    ws.send(Buffer.concat([Buffer.from([1]), le]));
    if (port === 9) {
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from('connection refused')]));
      ws.close(1000);
      return;
    }
    ws.on('message', (m: Buffer) => {
      const text = m.subarray(1).toString();
      if (text === 'bye') ws.close(1000);
      else ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(text.toUpperCase())]));
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/portForward/default/web`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

test('port-forward pairs kubectl streams by requestid and carries each pair on its own agent WebSocket', async (t) => {
  const agent = await fakeAgent();
  const dialed: WebSocket[] = [];
  t.after(async () => {
    for (const ws of dialed) ws.terminate();
    await agent.close();
  });
  const fromServer: Frame[] = [];
  const clientReader = new FrameReader();
  let transportClosed = false;
  const session = portForwardSession(
    {
      write: (b) => fromServer.push(...clientReader.push(b)),
      close: () => {
        transportClosed = true;
      },
    },
    (port) => {
      const ws = new WebSocket(`${agent.url}?port=${port}`, [CHANNEL_PROTOCOL]);
      dialed.push(ws);
      return ws;
    },
  );
  const client = new FrameWriter();
  const open = (id: number, type: string, port: number, requestid: string) =>
    session.receive(client.synStream(id, { streamtype: type, port: String(port), requestid }));
  const dataOn = (id: number) =>
    Buffer.concat(
      fromServer.flatMap((f) => (f.kind === 'data' && f.streamId === id ? [f.data] : [])),
    ).toString();
  const finOn = (id: number) => fromServer.some((f) => f.kind === 'data' && f.streamId === id && f.fin);

  // like kubectl: the error stream first (half-closed at once), then the data stream
  open(1, 'error', 80, '0');
  session.receive(client.data(1, Buffer.alloc(0), true));
  open(3, 'data', 80, '0');
  session.receive(client.data(3, Buffer.from('hello ')));
  session.receive(client.data(3, Buffer.from('pod')));
  assert.deepEqual(
    fromServer.filter((f) => f.kind === 'syn_reply').map((f) => (f as { streamId: number }).streamId),
    [1, 3],
  );
  await until('the echo', () => dataOn(3) === 'HELLO POD');

  session.receive(client.ping(1));
  assert.ok(
    fromServer.some((f) => f.kind === 'ping' && f.id === 1),
    'the ping is echoed',
  );

  session.receive(client.data(3, Buffer.from('bye')));
  await until('FIN on both streams', () => finOn(1) && finOn(3));
  assert.equal(dataOn(1), '', 'no error text');

  // the pod refuses: its text comes on the error stream, then both end
  open(5, 'error', 9, '1');
  open(7, 'data', 9, '1');
  await until('FIN after the error', () => finOn(5) && finOn(7));
  assert.equal(dataOn(5), 'connection refused');
  assert.equal(dataOn(7), '');

  // a stream of an unknown type is refused; the session goes on
  open(9, 'stdin', 80, '2');
  assert.ok(fromServer.some((f) => f.kind === 'rst_stream' && f.streamId === 9));
  assert.equal(transportClosed, false);

  session.receive(client.goAway(0));
  assert.equal(transportClosed, true);
  assert.equal(dialed.length, 2);
});
