/**
 * The agent end to end on a real node (API server, Skiff's runtime with runc, real CNI plugins,
 * busybox): pods run, report status, log, restart, probe, mount config, reach each other, and
 * leave nothing behind when deleted. One node is shared by the cases.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PODS } from '../../src/client/index.ts';
import { mountsUnder, sh, startTestNode, type TestNode, until } from './harness.ts';

/** The web pod's document root, unique to this run: its process is found by it and no other's. */
const WWW = `/www-${process.pid}`;

type Json = Record<string, any>;

describe('node agent', { timeout: 600_000 }, () => {
  let n: TestNode;
  before(async () => {
    n = await startTestNode();
  });
  after(async () => {
    await n?.destroy();
  });

  const pod = (name: string, spec: Json, extra: Json = {}): Json => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...extra },
    spec: { nodeName: n.nodeName, terminationGracePeriodSeconds: 2, ...spec },
  });
  const box = (name: string, script: string, more: Json = {}): Json => ({
    name,
    image: n.image,
    command: ['sh', '-c', script],
    ...more,
  });
  const get = async (name: string): Promise<Json> =>
    (await n.client.get(PODS, name, { namespace: 'default' })) as Json;
  const running = (name: string) =>
    until(`${name} running`, async () => {
      const p = await get(name);
      return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    });
  const logs = async (name: string, container: string, query = '') => {
    const res = await fetch(`${n.agent.server.url}/containerLogs/default/${name}/${container}${query}`);
    return { code: res.status, text: await res.text() };
  };
  const containerId = (p: Json, i = 0) => p.status.containerStatuses[i].containerID.replace(/^.*:\/\//, '');

  it('registers a Ready node with capacity, addresses, nodeInfo and a Lease', async () => {
    const r = await n.kubectl(['get', 'node', n.nodeName, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const node = JSON.parse(r.stdout);
    const ready = node.status.conditions.find((c: Json) => c.type === 'Ready');
    assert.equal(ready.status, 'True');
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure'])
      assert.equal(node.status.conditions.find((c: Json) => c.type === t).status, 'False');
    assert.ok(Number(node.status.capacity.cpu) >= 1);
    assert.match(node.status.capacity.memory, /^\d+Ki$/);
    assert.equal(node.status.allocatable.pods, '110');
    assert.deepEqual(
      node.status.addresses.map((a: Json) => a.type),
      ['InternalIP', 'Hostname'],
    );
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^\w+:\/\//);
    assert.ok(node.status.nodeInfo.kernelVersion);
    assert.equal(node.spec.podCIDR, n.podCIDR);
    const lease = await n.kubectl(['-n', 'kube-node-lease', 'get', 'lease', n.nodeName, '-o', 'json']);
    assert.equal(lease.code, 0, lease.stderr);
    const first = JSON.parse(lease.stdout).spec.renewTime;
    await until('the lease to be renewed', async () => {
      const l = await n.kubectl(['-n', 'kube-node-lease', 'get', 'lease', n.nodeName, '-o', 'json']);
      return JSON.parse(l.stdout).spec.renewTime !== first;
    });
  });

  it('runs a busybox pod to Running and Ready, with its logs in the file and at /containerLogs', async () => {
    const r = await n.kubectl(
      ['create', '-f', '-'],
      JSON.stringify(
        pod('hello', { containers: [box('c', 'echo hello from $(hostname); echo second line; sleep 3600')] }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    const p = await running('hello');
    assert.ok(p.status.podIP.startsWith(n.subnetPrefix), `${p.status.podIP} outside ${n.podCIDR}`);
    assert.deepEqual(p.status.podIPs, [{ ip: p.status.podIP }]);
    assert.equal(p.status.hostIP, '127.0.0.1');
    assert.ok(p.status.startTime);
    const ready = await until('hello Ready', async () => {
      const q = await get('hello');
      return q.status.conditions?.find((c: Json) => c.type === 'Ready')?.status === 'True' ? q : undefined;
    });
    const cs = ready.status.containerStatuses[0];
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.ok(cs.state.running.startedAt);
    assert.match(cs.containerID, /^\w+:\/\/[0-9a-f]+/);
    assert.equal(cs.image, n.image);
    const types = ready.status.conditions.map((c: Json) => c.type).sort();
    assert.deepEqual(types, [
      'ContainersReady',
      'Initialized',
      'PodReadyToStartContainers',
      'PodScheduled',
      'Ready',
    ]);
    const file = `${n.podLogsDir}/default_hello_${ready.metadata.uid}/c/0.log`;
    await until(
      'the log file',
      async () => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('second line'),
    );
    assert.match(fs.readFileSync(file, 'utf8'), /^\S+ stdout F hello from hello$/m);
    const l = await logs('hello', 'c');
    assert.equal(l.code, 200);
    assert.equal(l.text, 'hello from hello\nsecond line\n');
    assert.equal((await logs('hello', 'c', '?tailLines=1')).text, 'second line\n');
    assert.match(
      (await logs('hello', 'c', '?timestamps=true')).text,
      /^\d{4}-\d\d-\d\dT\S+ hello from hello\n/,
    );
    assert.equal((await logs('nope', 'c')).code, 404);
    // follow streams what comes later and ends when the client goes
    const ac = new AbortController();
    const res = await fetch(`${n.agent.server.url}/containerLogs/default/hello/c?follow=true`, {
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /hello from hello/);
    ac.abort();
    const kget = await n.kubectl(['get', 'pod', 'hello']);
    assert.match(kget.stdout, /hello\s+1\/1\s+Running\s+0/);
  });

  it('restarts a crashing container with growing back-off (CrashLoopBackOff)', async () => {
    const r = await n.kubectl(
      ['create', '-f', '-'],
      JSON.stringify(pod('crash', { containers: [box('c', 'echo boom; exit 3')] })),
    );
    assert.equal(r.code, 0, r.stderr);
    let sawBackOff = false;
    const restarts: number[] = [];
    const p = await until(
      'three restarts',
      async () => {
        const q = await get('crash');
        const cs = q.status?.containerStatuses?.[0];
        if (cs?.state?.waiting?.reason === 'CrashLoopBackOff') sawBackOff = true;
        if (cs && restarts.at(-1) !== cs.restartCount) restarts.push(cs.restartCount);
        return cs?.restartCount >= 3 ? q : undefined;
      },
      60_000,
    );
    assert.ok(sawBackOff, 'the waiting reason was CrashLoopBackOff between restarts');
    const cs = p.status.containerStatuses[0];
    assert.equal(cs.lastState.terminated.exitCode, 3);
    assert.equal(cs.lastState.terminated.reason, 'Error');
    assert.equal(p.status.phase, 'Running');
    assert.deepEqual(
      restarts,
      [...restarts].sort((a, b) => a - b),
      'restartCount only grows',
    );
    // previous=true shows the dead container's output
    assert.equal((await logs('crash', 'c', '?previous=true')).text, 'boom\n');
    const kget = await n.kubectl([
      'get',
      'pod',
      'crash',
      '-o',
      'jsonpath={.status.containerStatuses[0].restartCount}',
    ]);
    assert.ok(Number(kget.stdout) >= 3);
  });

  it('a failing liveness probe restarts the container; readiness gates Ready', async () => {
    const spec = {
      containers: [
        box('c', 'touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 3600', {
          livenessProbe: {
            exec: { command: ['test', '-f', '/tmp/alive'] },
            periodSeconds: 1,
            failureThreshold: 2,
          },
        }),
        box('r', 'sleep 3600', {
          readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
        }),
      ],
    };
    const r = await n.kubectl(['create', '-f', '-'], JSON.stringify(pod('probed', spec)));
    assert.equal(r.code, 0, r.stderr);
    const p = await running('probed');
    await new Promise((res) => setTimeout(res, 1500));
    let q = await get('probed');
    assert.equal(q.status.conditions.find((c: Json) => c.type === 'Ready').status, 'False');
    assert.equal(q.status.containerStatuses.find((c: Json) => c.name === 'r').ready, false);
    const rId = containerId(p, 1);
    const ex = await n.cri.execSync({ containerId: rId, cmd: ['touch', '/tmp/ready'], timeout: 5 });
    assert.equal(ex.exitCode, 0);
    q = await until('r ready', async () => {
      const x = await get('probed');
      return x.status.containerStatuses.find((c: Json) => c.name === 'r').ready ? x : undefined;
    });
    const live = await until(
      'the liveness restart',
      async () => {
        const x = await get('probed');
        const c = x.status.containerStatuses.find((c: Json) => c.name === 'c');
        return c.restartCount >= 1 && c.state.running ? c : undefined;
      },
      30_000,
    );
    assert.ok(live.lastState.terminated, 'the killed container is the last state');
    assert.equal(p.status.containerStatuses.find((c: Json) => c.name === 'r').restartCount, 0);
  });

  it('mounts a configMap volume, injects a secret env var and sets the memory limit', async () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg' },
      data: { 'app.conf': 'colour=blue', other: 'x' },
    };
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sec' },
      data: { token: Buffer.from('s3cr3t').toString('base64') },
    };
    for (const o of [cm, secret]) {
      const r = await n.kubectl(['create', '-f', '-'], JSON.stringify(o));
      assert.equal(r.code, 0, r.stderr);
    }
    const spec = {
      volumes: [
        { name: 'conf', configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'app.conf' }] } },
        { name: 'scratch', emptyDir: {} },
        {
          name: 'info',
          downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] },
        },
      ],
      containers: [
        box(
          'c',
          'cat /etc/app/app.conf; echo; echo token=$TOKEN; echo me=$ME; cat /etc/info/name; echo; sleep 3600',
          {
            env: [
              { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sec', key: 'token' } } },
              { name: 'ME', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            ],
            volumeMounts: [
              { name: 'conf', mountPath: '/etc/app' },
              { name: 'scratch', mountPath: '/scratch' },
              { name: 'info', mountPath: '/etc/info' },
            ],
            resources: { limits: { memory: '64Mi', cpu: '500m' }, requests: { memory: '32Mi', cpu: '250m' } },
          },
        ),
      ],
    };
    const r = await n.kubectl(['create', '-f', '-'], JSON.stringify(pod('config', spec)));
    assert.equal(r.code, 0, r.stderr);
    const p = await running('config');
    const text = await until('the output', async () => {
      const l = await logs('config', 'c');
      return l.text.includes('config\n') ? l.text : undefined;
    });
    assert.equal(text, 'colour=blue\ntoken=s3cr3t\nme=default\nconfig\n');
    const id = containerId(p);
    const ls = await n.cri.execSync({ containerId: id, cmd: ['ls', '/etc/app'], timeout: 5 });
    assert.equal(ls.stdout.toString(), 'app.conf\n', 'only the listed item');
    const ro = await n.cri.execSync({
      containerId: id,
      cmd: ['sh', '-c', 'echo x > /etc/app/y'],
      timeout: 5,
    });
    assert.notEqual(ro.exitCode, 0, 'configMap volumes are read-only');
    const rw = await n.cri.execSync({
      containerId: id,
      cmd: ['sh', '-c', 'echo x > /scratch/y && cat /scratch/y'],
      timeout: 5,
    });
    assert.equal(rw.stdout.toString(), 'x\n');
    // the memory limit, read on the host from the container's own cgroup
    const cg = await n.cri.execSync({ containerId: id, cmd: ['cat', '/proc/1/cgroup'], timeout: 5 });
    const v1 = /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m.exec(cg.stdout.toString());
    const limitFile = v1
      ? `/sys/fs/cgroup/memory${v1[1]}/memory.limit_in_bytes`
      : `/sys/fs/cgroup${/^0::(.*)$/m.exec(cg.stdout.toString())![1]}/memory.max`;
    assert.equal(fs.readFileSync(limitFile, 'utf8').trim(), String(64 * 1024 * 1024));
  });

  it('two pods reach each other over their pod IPs', async () => {
    const server = box(
      'web',
      `mkdir -p ${WWW} && echo hi-from-web > ${WWW}/index.html && httpd -f -p 8080 -h ${WWW}`,
      {
        ports: [{ containerPort: 8080 }],
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
      },
    );
    let r = await n.kubectl(['create', '-f', '-'], JSON.stringify(pod('web', { containers: [server] })));
    assert.equal(r.code, 0, r.stderr);
    r = await n.kubectl(
      ['create', '-f', '-'],
      JSON.stringify(pod('client', { containers: [box('c', 'sleep 3600')] })),
    );
    assert.equal(r.code, 0, r.stderr);
    const web = await until('web ready', async () => {
      const p = await get('web');
      return p.status?.containerStatuses?.[0]?.ready ? p : undefined;
    });
    const client = await running('client');
    assert.notEqual(web.status.podIP, client.status.podIP);
    const out = await until('the answer', async () => {
      const ex = await n.cri.execSync({
        containerId: containerId(client),
        cmd: ['timeout', '5', 'wget', '-qO-', `http://${web.status.podIP}:8080/`],
        timeout: 10,
      });
      return ex.exitCode === 0 ? ex.stdout.toString() : undefined;
    });
    assert.equal(out, 'hi-from-web\n');
  });

  it('a restarted agent adopts running containers', async () => {
    const before = await get('hello');
    const id = containerId(before);
    await n.restartAgent();
    await new Promise((res) => setTimeout(res, 3000));
    const after = await get('hello');
    assert.equal(containerId(after), id, 'same container');
    assert.equal(after.status.containerStatuses[0].restartCount, 0);
    assert.equal(after.status.phase, 'Running');
    const list = await n.cri.listContainers({
      filter: { labelSelector: { 'io.kubernetes.pod.uid': after.metadata.uid } },
    });
    assert.equal(list.containers.length, 1, 'no second container was started');
  });

  it('kubectl delete pod leaves no process, mount, netns or veth behind', async () => {
    const p = await get('web');
    const uid = p.metadata.uid;
    const sandboxes = (
      await n.cri.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } })
    ).items;
    assert.equal(sandboxes.length, 1);
    const sandboxDir = `${n.stateDir}/sandboxes/${sandboxes[0].id}`;
    const pids = (
      await n.cri.execSync({ containerId: containerId(p), cmd: ['cat', '/proc/1/stat'], timeout: 5 })
    ).exitCode;
    assert.equal(pids, 0);
    const vethsBefore = (await sh('ip', ['-o', 'link', 'show', 'master', n.bridge]))
      .trim()
      .split('\n')
      .filter(Boolean).length;
    assert.ok(vethsBefore >= 1);
    const r = await n.kubectl(['delete', 'pod', 'web', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual((await n.kubectl(['get', 'pod', 'web'])).code, 0, 'the pod is gone from the API');
    const left = await n.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
    assert.equal(left.containers.length, 0, 'no container');
    assert.equal(
      (await n.cri.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } })).items
        .length,
      0,
    );
    assert.deepEqual(mountsUnder(sandboxDir), [], 'no namespace mounts');
    assert.deepEqual(mountsUnder(`${n.agentDir}/pods/${uid}`), [], 'no volume mounts');
    assert.equal(fs.existsSync(`${n.agentDir}/pods/${uid}`), false, 'no pod dir');
    const ps = await sh('ps', ['-eo', 'args']);
    assert.ok(!ps.includes(`httpd -f -p 8080 -h ${WWW}`), 'no process');
    const vethsAfter = (await sh('ip', ['-o', 'link', 'show', 'master', n.bridge]))
      .trim()
      .split('\n')
      .filter(Boolean).length;
    assert.equal(vethsAfter, vethsBefore - 1, 'its veth is gone');
    const ip = p.status.podIP;
    assert.equal(fs.existsSync(`${n.dir}/ipam/skiff-k-${n.suffix}/${ip}`), false, 'its IP is released');
  });

  it('runs init containers in order, then reaches Succeeded under restartPolicy Never', async () => {
    const spec = {
      restartPolicy: 'Never',
      volumes: [{ name: 'work', emptyDir: {} }],
      initContainers: [
        box('one', 'echo one > /work/trail', { volumeMounts: [{ name: 'work', mountPath: '/work' }] }),
        box('two', 'echo two >> /work/trail', { volumeMounts: [{ name: 'work', mountPath: '/work' }] }),
      ],
      containers: [box('main', 'cat /work/trail', { volumeMounts: [{ name: 'work', mountPath: '/work' }] })],
    };
    const r = await n.kubectl(['create', '-f', '-'], JSON.stringify(pod('steps', spec)));
    assert.equal(r.code, 0, r.stderr);
    const p = await until('Succeeded', async () => {
      const q = await get('steps');
      return q.status?.phase === 'Succeeded' ? q : undefined;
    });
    assert.deepEqual(
      p.status.initContainerStatuses.map((c: Json) => [c.name, c.state.terminated?.reason]),
      [
        ['one', 'Completed'],
        ['two', 'Completed'],
      ],
    );
    assert.equal(p.status.containerStatuses[0].state.terminated.exitCode, 0);
    assert.equal(p.status.conditions.find((c: Json) => c.type === 'Ready').reason, 'PodCompleted');
    assert.equal((await logs('steps', 'main')).text, 'one\ntwo\n');
  });

  it('a failing container under restartPolicy Never fails the pod; a missing image is reported', async () => {
    let r = await n.kubectl(
      ['create', '-f', '-'],
      JSON.stringify(pod('fails', { restartPolicy: 'Never', containers: [box('c', 'exit 7')] })),
    );
    assert.equal(r.code, 0, r.stderr);
    const f = await until('Failed', async () => {
      const q = await get('fails');
      return q.status?.phase === 'Failed' ? q : undefined;
    });
    assert.equal(f.status.containerStatuses[0].state.terminated.exitCode, 7);
    assert.equal(f.status.containerStatuses[0].restartCount, 0);
    const never = { name: 'c', image: 'skiff.local/absent:1', imagePullPolicy: 'Never' };
    const pull = { name: 'c', image: '127.0.0.1:1/absent:1', imagePullPolicy: 'IfNotPresent' };
    r = await n.kubectl(['create', '-f', '-'], JSON.stringify(pod('noimage', { containers: [never] })));
    assert.equal(r.code, 0, r.stderr);
    await until(
      'ErrImageNeverPull',
      async () =>
        (await get('noimage')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull',
    );
    // every status write is a watch event: collect the waiting reasons it went through
    const seen = new Set<string>();
    const ac = new AbortController();
    const watching = (async () => {
      for await (const ev of n.client.watch(PODS, {
        namespace: 'default',
        fieldSelector: 'metadata.name=nopull',
        resourceVersion: '0',
        signal: ac.signal,
      })) {
        const reason = ev.object?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (reason) seen.add(reason);
      }
    })();
    r = await n.kubectl(['create', '-f', '-'], JSON.stringify(pod('nopull', { containers: [pull] })));
    assert.equal(r.code, 0, r.stderr);
    try {
      await until(
        'ErrImagePull then ImagePullBackOff',
        async () => seen.has('ErrImagePull') && seen.has('ImagePullBackOff'),
      ).catch((e) => assert.fail(`${e.message}; seen ${[...seen]}`));
    } finally {
      ac.abort();
      await watching.catch(() => {});
    }
    assert.equal((await get('nopull')).status.phase, 'Pending');
  });

  it('cleans up a pod deleted while the agent was down', async () => {
    const r = await n.kubectl(
      ['create', '-f', '-'],
      JSON.stringify(pod('gone', { containers: [box('c', 'sleep 3600')] })),
    );
    assert.equal(r.code, 0, r.stderr);
    const p = await running('gone');
    const uid = p.metadata.uid;
    await n.agent.close();
    await n.client.delete(PODS, 'gone', { namespace: 'default', gracePeriodSeconds: 0 });
    await n.restartAgent();
    const sel = { labelSelector: { 'io.kubernetes.pod.uid': uid } };
    assert.equal((await n.cri.listContainers({ filter: sel })).containers.length, 0);
    assert.equal((await n.cri.listPodSandbox({ filter: sel })).items.length, 0);
    assert.equal(fs.existsSync(`${n.agentDir}/pods/${uid}`), false);
  });
});
