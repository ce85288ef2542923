/** The ServiceAccount controller: every active namespace has a `default` ServiceAccount. */
import { isReason } from '../../api/index.ts';
import { controllerFor } from '../runtime/controller.ts';

const SA = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = { group: '', version: 'v1', resource: 'namespaces' };

export const serviceAccountController = controllerFor('v1', 'namespaces')
  .watches('v1', 'serviceaccounts', (sa) =>
    sa.metadata?.name === 'default' ? [sa.metadata.namespace ?? ''] : [],
  )
  .named('serviceaccount')
  .complete((ctx) => {
    const namespaces = ctx.informers.informerFor(NS).store;
    const accounts = ctx.informers.informerFor(SA).store;
    return async ({ name }) => {
      const ns = namespaces.get(name);
      if (!ns || ns.metadata?.deletionTimestamp || (ns.status as { phase?: string })?.phase === 'Terminating')
        return;
      if (accounts.get(`${name}/default`)) return;
      try {
        await ctx.client.create(SA, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'default', namespace: name },
        });
      } catch (e) {
        if (!isReason(e, 'AlreadyExists') && !isReason(e, 'Forbidden') && !isReason(e, 'NotFound')) throw e;
      }
      return undefined;
    };
  });
