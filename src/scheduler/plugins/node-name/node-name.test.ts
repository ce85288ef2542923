import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { Code, CycleState } from '../../framework/status.ts';
import { makeNode, makePod } from '../../testing/builders.ts';
import { ERR_REASON_NODE_NAME, nodeName } from './node-name.ts';

const cases: [string, string | undefined, string, Code][] = [
  ['no nodeName fits anywhere', undefined, 'n1', Code.Success],
  ['the named node fits', 'n1', 'n1', Code.Success],
  ['another node is unresolvable', 'n2', 'n1', Code.UnschedulableAndUnresolvable],
];

for (const [name, want, node, code] of cases) {
  test(`NodeName filter: ${name}`, () => {
    const s = nodeName().filter(
      new CycleState(),
      new PodInfo(makePod('p', { spec: { nodeName: want } })),
      new NodeInfo(makeNode(node)),
    );
    assert.equal(s.code, code);
    assert.deepEqual(s.reasons, code === Code.Success ? [] : [ERR_REASON_NODE_NAME]);
  });
}
