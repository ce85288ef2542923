import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensurePki } from '../apiserver/index.ts';
import { caHash, fetchPinnedCa, parseJoinToken, writeJoinToken } from './join-token.ts';

test('an agent trusts the server only through the CA hash in its join token', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-join-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pki = await ensurePki(join(dir, 'a'));
  const other = await ensurePki(join(dir, 'b'));
  const token = await writeJoinToken(dir, pki.ca.cert, 'abcdef.0123456789abcdef');
  assert.equal((await readFile(join(dir, 'join-token'), 'utf8')).trim(), token);
  assert.deepEqual(parseJoinToken(token), {
    caHash: caHash(pki.ca.cert),
    bootstrapToken: 'abcdef.0123456789abcdef',
  });
  assert.throws(() => parseJoinToken('abcdef.0123456789abcdef'), /not a Skiff join token/);

  // A server presenting its certificate with the CA in the chain, as the API server does.
  const server = https.createServer(
    { cert: `${pki.server.cert.trimEnd()}\n${pki.ca.cert}`, key: pki.server.key },
    (_q, r) => r.end('ok'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ca = await fetchPinnedCa(url, caHash(pki.ca.cert));
  assert.equal(caHash(ca), caHash(pki.ca.cert));
  await assert.rejects(fetchPinnedCa(url, caHash(other.ca.cert)), /does not present the CA the token names/);
});
