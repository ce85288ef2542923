/**
 * The scheduler's in-memory cycle: 5,000 nodes (4 CPU, 32Gi, 110 pods), 1,000 pods already
 * placed, then 10,000 pods of 100m/500Mi scheduled one after another with the default profile.
 * Prints pods/s and CPU time per pod of each run (CPU time is the steadier figure on a shared
 * machine) and the medians of 3.
 *
 *   node_modules/.bin/node bench/scheduler-cycle.ts
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import {
  CycleState,
  DEFAULT_PROFILE,
  Framework,
  inTreeRegistry,
  PodInfo,
  SchedulerCache,
} from '../src/scheduler/index.ts';

const NODES = 5000;
const PLACED = 1000;
const PODS = 10_000;

function node(i: number): Node {
  return {
    metadata: {
      name: `node-${i}`,
      labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 3}` },
    },
    status: { allocatable: { cpu: '4', memory: '32Gi', pods: '110' } },
  };
}

function pod(i: number): Pod {
  return {
    metadata: { name: `pod-${i}`, namespace: 'bench', labels: { app: 'bench' } },
    spec: {
      containers: [
        { name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '500Mi' } } },
      ],
    },
  };
}

function run(): { rate: number; cpuMicros: number } {
  const snapshot = new SchedulerCache();
  for (let i = 0; i < NODES; i++) snapshot.upsertNode(node(i));
  const fw = new Framework({
    registry: inTreeRegistry(),
    plugins: DEFAULT_PROFILE,
    handle: { runFilters: (s, p, n) => fw.runFilters(s, p, n), evict: async () => {} },
  });
  for (let i = 0; i < PLACED; i++) snapshot.addPod(pod(-1 - i), `node-${i % NODES}`);
  const pods = Array.from({ length: PODS }, (_, i) => new PodInfo(pod(i)));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (const p of pods) {
    const r = fw.schedulePod(new CycleState(), p, snapshot);
    snapshot.addPod(p, r.nodeName, true);
  }
  const c = process.cpuUsage(c0);
  return { rate: PODS / ((performance.now() - t0) / 1000), cpuMicros: (c.user + c.system) / PODS };
}

const runs = [run(), run(), run()];
for (const r of runs) console.log(`run: ${Math.round(r.rate)} pods/s, ${r.cpuMicros.toFixed(1)} µs CPU/pod`);
const median = (v: number[]) => v.sort((a, b) => a - b)[1];
console.log(
  `median: ${Math.round(median(runs.map((r) => r.rate)))} pods/s, ${median(runs.map((r) => r.cpuMicros)).toFixed(1)} µs CPU/pod (${NODES} nodes, ${PODS} pods)`,
);
