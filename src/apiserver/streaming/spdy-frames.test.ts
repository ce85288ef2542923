import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.ts';
import { type Frame, FrameReader, FrameWriter, SYN_STREAM } from './spdy-frames.ts';

test('the header dictionary is the 1,423 bytes of SPDY/3', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(
    createHash('sha256').update(SPDY3_DICTIONARY).digest('hex'),
    '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02',
  );
});

/** A peer's header compressor as Go's framer runs it: one zlib stream, a sync flush per block. */
function continuousDeflate(): (plain: Buffer) => Promise<Buffer> {
  const z = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  const out: Buffer[] = [];
  z.on('data', (d: Buffer) => out.push(d));
  return (plain) =>
    new Promise((resolve) => {
      z.write(plain);
      z.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => resolve(Buffer.concat(out.splice(0)))));
    });
}

function headerBlock(pairs: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  parts.push(u32(pairs.length));
  for (const [n, v] of pairs) parts.push(u32(n.length), Buffer.from(n), u32(v.length), Buffer.from(v));
  return Buffer.concat(parts);
}

function synStream(streamId: number, compressed: Buffer): Buffer {
  const head = Buffer.alloc(18);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(SYN_STREAM, 2);
  head.writeUInt32BE(10 + compressed.length, 4);
  head.writeUInt32BE(streamId, 8);
  return Buffer.concat([head, compressed]);
}

test("SYN_STREAMs compressed by one continuous zlib stream (a Go peer's) decode one by one", async () => {
  const deflate = continuousDeflate();
  const reader = new FrameReader();
  const frames: Frame[] = [];
  for (let id = 1; id < 40; id += 2) {
    const type = id % 4 === 1 ? 'error' : 'data';
    const block = await deflate(
      headerBlock([
        ['streamtype', type],
        ['port', '8080'],
        ['requestid', String(id >> 2)],
      ]),
    );
    const bytes = synStream(id, block);
    // arrive split at an awkward place
    frames.push(...reader.push(bytes.subarray(0, 5)), ...reader.push(bytes.subarray(5)));
  }
  assert.equal(frames.length, 20);
  for (const [i, f] of frames.entries()) {
    assert.equal(f.kind, 'syn_stream');
    if (f.kind !== 'syn_stream') continue;
    assert.equal(f.streamId, 2 * i + 1);
    assert.deepEqual(f.headers, {
      streamtype: i % 2 === 0 ? 'error' : 'data',
      port: '8080',
      requestid: String((2 * i + 1) >> 2),
    });
  }
});

test("written header blocks inflate in one continuous zlib stream (a Go peer's reader)", async () => {
  const writer = new FrameWriter();
  const inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  const out: Buffer[] = [];
  inflate.on('data', (d: Buffer) => out.push(d));
  for (let id = 1; id < 20; id += 2) {
    const frame = writer.synReply(id, id === 5 ? { 'x-note': `stream ${id}` } : {});
    assert.equal(frame.readUInt16BE(0), 0x8003);
    assert.equal(frame.readUInt16BE(2), 2);
    assert.equal(frame.readUInt32BE(4) & 0xffffff, frame.length - 8);
    assert.equal(frame.readUInt32BE(8), id);
    await new Promise<void>((resolve) => {
      inflate.write(frame.subarray(12));
      inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(resolve));
    });
    const plain = Buffer.concat(out.splice(0));
    assert.deepEqual(plain, headerBlock(id === 5 ? [['x-note', `stream ${id}`]] : []));
  }
});

test('data, ping, reset and go-away frames round-trip through the reader', () => {
  const w = new FrameWriter();
  const r = new FrameReader();
  const big = Buffer.alloc(70_000, 7);
  const frames = r.push(
    Buffer.concat([
      w.data(3, big),
      w.data(3, Buffer.alloc(0), true),
      w.ping(7),
      w.rstStream(5, 5),
      w.goAway(9),
    ]),
  );
  assert.deepEqual(frames, [
    { kind: 'data', streamId: 3, fin: false, data: big },
    { kind: 'data', streamId: 3, fin: true, data: Buffer.alloc(0) },
    { kind: 'ping', id: 7 },
    { kind: 'rst_stream', streamId: 5, status: 5 },
    { kind: 'goaway', lastGoodStreamId: 9, status: 0 },
  ]);
  // our own SYN_STREAM reads back with its headers
  const w2 = new FrameWriter();
  const r2 = new FrameReader();
  assert.deepEqual(r2.push(w2.synStream(1, { streamtype: 'data', port: '80' })), [
    { kind: 'syn_stream', streamId: 1, fin: false, headers: { streamtype: 'data', port: '80' } },
  ]);
});
