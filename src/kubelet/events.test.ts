import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RestClient } from '../client/index.ts';
import { eventRecorder } from './events.ts';

/** Records writes; each waits until the test lets it finish. */
function slowApi() {
  const writes: { verb: string; body: any }[] = [];
  let inFlight = 0;
  let most = 0;
  const gates: (() => void)[] = [];
  const hold = async (verb: string, body: any) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise<void>((r) => gates.push(r));
    inFlight--;
    writes.push({ verb, body });
    return body;
  };
  const client = {
    create: (_gvr: unknown, body: any) => hold('create', body),
    patch: (_gvr: unknown, name: string, body: any) => hold('patch', { name, ...body }),
  } as unknown as RestClient;
  return {
    client,
    writes,
    most: () => most,
    release: () => {
      for (const g of gates.splice(0)) g();
    },
  };
}

const pod = (name: string) => ({ metadata: { name, namespace: 'default', uid: `uid-${name}` } });

test('event writes run a few at a time, and a repeat still counts on its create', async () => {
  const api = slowApi();
  const events = eventRecorder(api.client, 'n1', { concurrency: 3 });
  for (let i = 0; i < 20; i++) events.record(pod(`p${i}`), 'Normal', 'Started', 'Started container c');
  events.record(pod('p0'), 'Normal', 'Started', 'Started container c');
  const done = events.flush();
  while (api.writes.length < 21) {
    await new Promise((r) => setImmediate(r));
    api.release();
  }
  await done;
  assert.equal(api.most(), 3);
  assert.equal(api.writes.filter((w) => w.verb === 'create').length, 20);
  const repeat = api.writes.findIndex((w) => w.verb === 'patch');
  const first = api.writes.findIndex((w) => w.verb === 'create' && w.body.involvedObject.name === 'p0');
  assert.ok(first < repeat, 'the count follows the create');
  assert.equal(api.writes[repeat].body.count, 2);
  assert.equal(api.writes[repeat].body.name, api.writes[first].body.metadata.name);
});
