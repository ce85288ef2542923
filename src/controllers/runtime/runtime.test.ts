import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evictionTime } from '../nodelifecycle/index.ts';
import { deletionRank } from '../replicaset/index.ts';
import { Expectations } from './expectations.ts';
import { selectControllers } from './manager.ts';
import { intOrPercent, templateHash } from './objects.ts';

describe('controller runtime', () => {
  it('selects controllers like --controllers', () => {
    assert.deepEqual(selectControllers(['a', 'b', 'c']), ['a', 'b', 'c']);
    assert.deepEqual(selectControllers(['a', 'b', 'c'], ['*', '-b']), ['a', 'c']);
    assert.deepEqual(selectControllers(['a', 'b', 'c'], ['c']), ['c']);
    assert.throws(() => selectControllers(['a'], ['nope']), /unknown controller/);
  });

  it('holds a key until its creations and deletions are observed, or they lapse', () => {
    let now = 0;
    const e = new Expectations({ now: () => now, ttlMs: 1000 });
    e.expectCreations('k', 2);
    e.expectDeletions('k', ['u1']);
    assert.equal(e.satisfied('k'), false);
    e.creationObserved('k');
    e.creationObserved('k');
    assert.equal(e.satisfied('k'), false);
    e.deletionObserved('k', 'u1');
    assert.equal(e.satisfied('k'), true);
    e.expectCreations('k', 1);
    now = 2000;
    assert.equal(e.satisfied('k'), true);
  });

  it('resolves int-or-percent and hashes templates stably', () => {
    assert.equal(intOrPercent('25%', 3, true), 1);
    assert.equal(intOrPercent('25%', 3, false), 0);
    assert.equal(intOrPercent(2, 3, false), 2);
    assert.equal(templateHash({ a: 1, b: [1, 2] }), templateHash({ b: [1, 2], a: 1 }));
    assert.notEqual(templateHash({ a: 1 }), templateHash({ a: 2 }));
    assert.match(templateHash({ a: 1 }), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });

  it('deletes unscheduled, then pending, then not-ready pods first', () => {
    const pod = (name: string, node: string | undefined, phase: string, ready: boolean) => ({
      metadata: { name },
      spec: { nodeName: node },
      status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    const pods = [
      pod('ready', 'n', 'Running', true),
      pod('notready', 'n', 'Running', false),
      pod('pending', 'n', 'Pending', false),
      pod('unscheduled', undefined, 'Pending', false),
    ];
    assert.deepEqual(
      pods.sort(deletionRank).map((p) => p.metadata.name),
      ['unscheduled', 'pending', 'notready', 'ready'],
    );
  });

  it('computes NoExecute eviction times with default tolerationSeconds', () => {
    const taint = {
      key: 'node.kubernetes.io/unreachable',
      effect: 'NoExecute',
      timeAdded: '2024-01-01T00:00:00Z',
    };
    const t0 = Date.parse(taint.timeAdded);
    assert.equal(evictionTime({ spec: {} }, [taint], 300, t0), t0 + 300_000);
    const tol = { key: taint.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 };
    assert.equal(evictionTime({ spec: { tolerations: [tol] } }, [taint], 300, t0), t0 + 5000);
    const forever = { key: taint.key, operator: 'Exists', effect: 'NoExecute' };
    assert.equal(evictionTime({ spec: { tolerations: [forever] } }, [taint], 300, t0), undefined);
    assert.equal(evictionTime({ spec: {} }, [{ key: 'x', effect: 'NoExecute' }], 300, t0), t0);
  });
});
