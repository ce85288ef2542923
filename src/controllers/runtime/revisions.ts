/**
 * ControllerRevisions: the history of a DaemonSet's or StatefulSet's pod template, kept as
 * upstream keeps it so `kubectl rollout history|undo` work.
 *
 * A revision is named `<owner>-<hash>` (the hash of the template and the owner's
 * collisionCount), carries the template's labels plus `controller-revision-hash: <hash>`, an
 * ownerReference to its owner, a `revision` number, and `data`: the strategic-merge patch
 * `{"spec":{"template":{..., "$patch":"replace"}}}` that `kubectl rollout undo` applies. When the
 * template comes back to an older revision's (an undo), that revision is renumbered as the
 * newest instead of a new one being made. Revisions beyond `revisionHistoryLimit` that no live
 * pod uses are deleted, oldest first.
 */
import { isReason, type KubeObject, selectorMatches } from '../../api/index.ts';
import type { RestClient } from '../../client/index.ts';
import { type Json, newControllerRef, stableJson, templateHash } from './objects.ts';

export const CONTROLLER_REVISIONS = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };
export const REVISION_HASH = 'controller-revision-hash';

export interface RevisionState {
  /** The revision of the current template. */
  update: KubeObject;
  /** Every revision the owner has, oldest number first. */
  all: KubeObject[];
  /** The owner's collisionCount after this sync (store it in status if it grew). */
  collisionCount: number;
}

/** The patch a revision holds for `template`. */
export function revisionData(template: unknown): Json {
  return { spec: { template: { ...(template as Json), $patch: 'replace' } } };
}

export const revisionNumber = (r: KubeObject) => Number((r as Json).revision ?? 0);

/** The hash part of a revision (its `controller-revision-hash` label). */
export const revisionHash = (r: KubeObject) => r.metadata?.labels?.[REVISION_HASH] ?? '';

/** Revisions in `candidates` controlled by `owner`. */
export function ownedRevisions(owner: KubeObject, candidates: KubeObject[]): KubeObject[] {
  const uid = owner.metadata?.uid;
  const sel = (owner.spec as Json)?.selector;
  return candidates.filter(
    (r) =>
      r.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid) &&
      selectorMatches(sel, r.metadata?.labels ?? {}),
  );
}

/** Make sure the current template has the newest revision; returns it and the history. */
export async function syncRevisions(
  client: RestClient,
  owner: KubeObject,
  ref: { apiVersion: string; kind: string },
  candidates: KubeObject[],
): Promise<RevisionState> {
  const spec = (owner.spec ?? {}) as Json;
  const all = ownedRevisions(owner, candidates).sort((a, b) => revisionNumber(a) - revisionNumber(b));
  const data = revisionData(spec.template ?? {});
  const want = stableJson(data);
  const max = all.length ? revisionNumber(all[all.length - 1]) : 0;
  const same = all.filter((r) => stableJson((r as Json).data) === want);
  if (same.length) {
    // the newest equal one; renumber it when it is not already the newest of all
    let cur = same[same.length - 1];
    if (revisionNumber(cur) < max) {
      cur = await client.update(CONTROLLER_REVISIONS, { ...cur, revision: max + 1 } as KubeObject);
      all.splice(all.indexOf(same[same.length - 1]), 1);
      all.push(cur);
    }
    return { update: cur, all, collisionCount: (owner.status as Json)?.collisionCount ?? 0 };
  }
  let collisionCount = (owner.status as Json)?.collisionCount ?? 0;
  const name = owner.metadata!.name!;
  const annotations = { ...(owner.metadata?.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  for (let attempt = 0; attempt < 5; attempt++) {
    const hash = templateHash(spec.template ?? {}, collisionCount);
    const rev = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${name}-${hash}`,
        namespace: owner.metadata?.namespace,
        labels: { ...(spec.template?.metadata?.labels ?? {}), [REVISION_HASH]: hash },
        annotations,
        ownerReferences: [newControllerRef(owner, ref.apiVersion, ref.kind)],
      },
      data,
      revision: max + 1,
    };
    try {
      const made = await client.create(CONTROLLER_REVISIONS, rev as KubeObject);
      all.push(made);
      return { update: made, all, collisionCount };
    } catch (e) {
      if (!isReason(e, 'AlreadyExists')) throw e;
      const existing = await client.get(CONTROLLER_REVISIONS, rev.metadata.name, {
        namespace: owner.metadata?.namespace,
      });
      const mine = existing.metadata?.ownerReferences?.some((o) => o.uid === owner.metadata?.uid);
      if (mine && stableJson((existing as Json).data) === want) {
        // ours, not yet in the cache
        const updated =
          revisionNumber(existing) < max + 1
            ? await client.update(CONTROLLER_REVISIONS, { ...existing, revision: max + 1 } as KubeObject)
            : existing;
        all.push(updated);
        return { update: updated, all, collisionCount };
      }
      collisionCount++;
    }
  }
  throw new Error(`no free ControllerRevision name for ${name} after 5 collisions`);
}

/** Delete the oldest revisions beyond `limit` that are neither current nor used by a pod. */
export async function pruneRevisions(
  client: RestClient,
  state: RevisionState,
  inUse: Set<string>,
  limit: number,
): Promise<void> {
  const idle = state.all.filter(
    (r) => r !== state.update && !inUse.has(revisionHash(r)) && !inUse.has(r.metadata?.name ?? ''),
  );
  for (const r of idle.slice(0, Math.max(0, idle.length - limit))) {
    await client
      .delete(CONTROLLER_REVISIONS, r.metadata!.name!, {
        namespace: r.metadata?.namespace,
        preconditions: { uid: r.metadata?.uid },
      })
      .catch((e) => {
        if (!isReason(e, 'NotFound') && !isReason(e, 'Conflict')) throw e;
      });
  }
}
