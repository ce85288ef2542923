/**
 * `POST serviceaccounts/{name}/token`: a TokenRequest answered with a signed service-account JWT
 * (`kubectl create token NAME`). Optional `spec.boundObjectRef` binds it to a Pod (or Secret),
 * which must exist with the uid given; the token dies with it.
 */
import { badRequest, invalid, StatusError } from '../../api/errors.ts';
import { defaultTokenRequest, validateTokenRequest } from '../../api/kinds/review.ts';
import type { Ctx } from '../context.ts';
import { checkKind } from './prepare.ts';

type Json = Record<string, any>;

export async function tokenRequest(ctx: Ctx): Promise<void> {
  const auth = ctx.parts.auth;
  if (!auth) throw new StatusError('NotFound', 'the server could not find the requested resource');
  const name = ctx.info.name!;
  const ns = ctx.info.namespace!;
  const sa = (await ctx.parts.objects.get(ctx.def, ns, name)).obj;
  const req = await ctx.objectBody();
  checkKind(ctx, req, 'TokenRequest', 'authentication.k8s.io/v1');
  defaultTokenRequest(req);
  const causes = validateTokenRequest(req);
  if (causes.length) throw invalid('authentication.k8s.io', 'TokenRequest', name, causes);
  const spec = req.spec as Json;
  let pod: { name: string; uid: string } | undefined;
  const ref = spec.boundObjectRef as Json | undefined;
  if (ref) {
    if (ref.kind !== 'Pod' && ref.kind !== 'Secret') {
      throw badRequest(`cannot bind token for serviceaccount "${name}" to object of kind "${ref.kind}"`);
    }
    const def = ctx.parts.registry.byResource('', 'v1', ref.kind === 'Pod' ? 'pods' : 'secrets')!;
    const obj = (await ctx.parts.objects.get(def, ns, ref.name)).obj;
    if (ref.uid && ref.uid !== obj.metadata?.uid) {
      throw new StatusError(
        'Conflict',
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    if (ref.kind === 'Pod') pod = { name: ref.name, uid: obj.metadata!.uid! };
  }
  const { token, expiresAt } = await auth.tokens.issue({
    namespace: ns,
    serviceAccount: { name, uid: sa.metadata!.uid! },
    pod,
    expirationSeconds: spec.expirationSeconds,
    audiences: spec.audiences,
  });
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  ctx.send(201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: ns, creationTimestamp: stamp },
    spec: { ...spec, audiences: spec.audiences?.length ? spec.audiences : auth.tokens.audiences },
    status: { token, expirationTimestamp: expiresAt.toISOString().replace(/\.\d+Z$/, 'Z') },
  });
}
