/** Schemas of networking.k8s.io/v1: NetworkPolicy, Ingress, IngressClass. */
import type { Schema } from '../resource.ts';
import { CORE } from './core-pod.ts';
import { arr, int, intOrString, kindAndList, labelSelector, obj, ref, str, strArr } from './dsl.ts';

const P = 'io.k8s.api.networking.v1.';
const gvk = (k: string) => ({ group: 'networking.k8s.io', version: 'v1', kind: k });

const networkingKind = (k: string, description: string, props: Record<string, Schema>) =>
  kindAndList(P, gvk(k), description, props);

function networkPolicy(): Record<string, Schema> {
  return {
    ...networkingKind('NetworkPolicy', 'Which traffic the selected pods may send and receive.', {
      spec: ref(`${P}NetworkPolicySpec`, 'The policy.', { default: {} }),
    }),
    [`${P}NetworkPolicySpec`]: obj(
      'The pods a policy applies to and the traffic it allows.',
      {
        egress: arr(
          ref(`${P}NetworkPolicyEgressRule`),
          'Outgoing traffic allowed from the selected pods; a pod selected by any policy with Egress ' +
            'in policyTypes sends only what some rule allows.',
          { listType: 'atomic' },
        ),
        ingress: arr(
          ref(`${P}NetworkPolicyIngressRule`),
          'Incoming traffic allowed to the selected pods; a pod selected by any policy with Ingress ' +
            'in policyTypes receives only what some rule allows.',
          { listType: 'atomic' },
        ),
        podSelector: labelSelector(
          'The pods of this namespace the policy applies to; an empty selector selects them all.',
        ),
        policyTypes: strArr(
          'Ingress, Egress or both: the directions this policy isolates. Ingress always, and Egress ' +
            'when egress rules are given, unless set.',
        ),
      },
      { required: ['podSelector'] },
    ),
    [`${P}NetworkPolicyIngressRule`]: obj('Traffic allowed in: from these peers, to these ports.', {
      from: arr(ref(`${P}NetworkPolicyPeer`), 'Sources allowed; empty or missing allows any source.', {
        listType: 'atomic',
      }),
      ports: arr(ref(`${P}NetworkPolicyPort`), 'Ports allowed; empty or missing allows every port.', {
        listType: 'atomic',
      }),
    }),
    [`${P}NetworkPolicyEgressRule`]: obj('Traffic allowed out: to these peers, on these ports.', {
      ports: arr(ref(`${P}NetworkPolicyPort`), 'Ports allowed; empty or missing allows every port.', {
        listType: 'atomic',
      }),
      to: arr(
        ref(`${P}NetworkPolicyPeer`),
        'Destinations allowed; empty or missing allows any destination.',
        {
          listType: 'atomic',
        },
      ),
    }),
    [`${P}NetworkPolicyPeer`]: obj(
      'A set of pods, namespaces or addresses; ipBlock excludes the other two.',
      {
        ipBlock: ref(`${P}IPBlock`, 'A range of addresses.'),
        namespaceSelector: labelSelector('Namespaces whose pods match; with podSelector, both must match.'),
        podSelector: labelSelector(
          "Pods that match; in the policy's namespace unless namespaceSelector is set.",
        ),
      },
    ),
    [`${P}NetworkPolicyPort`]: obj('A port, or a range of ports, and a protocol.', {
      endPort: int('The last port of a range starting at `port`; needs a numeric `port`.'),
      port: intOrString('A port number or a named container port; missing matches every port.'),
      protocol: str('TCP, UDP or SCTP; TCP by default.'),
    }),
    [`${P}IPBlock`]: obj(
      'A CIDR, less some sub-ranges.',
      {
        cidr: str('The range, such as 192.168.1.0/24 or 2001:db8::/64.'),
        except: strArr('Sub-ranges of cidr that the block leaves out.'),
      },
      { required: ['cidr'] },
    ),
  };
}

function ingress(): Record<string, Schema> {
  return {
    ...networkingKind('Ingress', 'Rules that route outside HTTP traffic to services.', {
      spec: ref(`${P}IngressSpec`, 'The desired routing.'),
      status: ref(`${P}IngressStatus`, 'The observed state, such as the load balancer address.'),
    }),
    [`${P}IngressSpec`]: obj('What an ingress routes, and which controller implements it.', {
      defaultBackend: ref(`${P}IngressBackend`, 'Where requests that match no rule go.'),
      ingressClassName: str('The IngressClass whose controller implements this ingress.'),
      rules: arr(ref(`${P}IngressRule`), 'Host and path rules, tried in order.', { listType: 'atomic' }),
      tls: arr(ref(`${P}IngressTLS`), 'TLS settings: hosts and the secrets that hold their keys.', {
        listType: 'atomic',
      }),
    }),
    [`${P}IngressBackend`]: obj('A service port or another resource that receives traffic.', {
      resource: ref(`${CORE}TypedLocalObjectReference`, 'An object of this namespace; excludes service.'),
      service: ref(`${P}IngressServiceBackend`, 'A service of this namespace; excludes resource.'),
    }),
    [`${P}IngressServiceBackend`]: obj(
      'A service and one of its ports.',
      {
        name: str('The service name.'),
        port: ref(`${P}ServiceBackendPort`, 'The service port, by name or number.'),
      },
      { required: ['name'] },
    ),
    [`${P}ServiceBackendPort`]: obj(
      'A service port, by name or by number.',
      {
        name: str('The port name; excludes number.'),
        number: int('The port number; excludes name.'),
      },
      { extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${P}IngressRule`]: obj('Paths of one host (or of every host) and where they lead.', {
      host: str('A DNS name, possibly with a leading `*.` wildcard label; missing matches every host.'),
      http: ref(`${P}HTTPIngressRuleValue`, 'The HTTP paths.'),
    }),
    [`${P}HTTPIngressRuleValue`]: obj(
      'HTTP paths and their backends.',
      {
        paths: arr(ref(`${P}HTTPIngressPath`), 'Paths, each with a backend.', { listType: 'atomic' }),
      },
      { required: ['paths'] },
    ),
    [`${P}HTTPIngressPath`]: obj(
      'A path and the backend it leads to.',
      {
        backend: ref(`${P}IngressBackend`, 'Where matching requests go.'),
        path: str('The path; must start with / unless pathType is ImplementationSpecific.'),
        pathType: str('Exact, Prefix or ImplementationSpecific: how the path matches.'),
      },
      { required: ['pathType', 'backend'] },
    ),
    [`${P}IngressTLS`]: obj('TLS for some hosts.', {
      hosts: strArr('Hosts the certificate covers; the default host of the controller when empty.'),
      secretName: str('The secret holding the certificate and key.'),
    }),
    [`${P}IngressStatus`]: obj('The observed state of an ingress.', {
      loadBalancer: ref(`${P}IngressLoadBalancerStatus`, 'The load balancer.'),
    }),
    [`${P}IngressLoadBalancerStatus`]: obj('The addresses of a load balancer.', {
      ingress: arr(ref(`${P}IngressLoadBalancerIngress`), 'Its entry points.', { listType: 'atomic' }),
    }),
    [`${P}IngressLoadBalancerIngress`]: obj('One entry point of a load balancer.', {
      hostname: str('A DNS name.'),
      ip: str('An IP address.'),
      ports: arr(ref(`${P}IngressPortStatus`), 'Its ports.', { listType: 'atomic' }),
    }),
    [`${P}IngressPortStatus`]: obj(
      'The state of one port.',
      {
        error: str('Why the port has a problem, as a CamelCase reason.'),
        port: int('The port number.'),
        protocol: str('TCP, UDP or SCTP.'),
      },
      { required: ['port', 'protocol'] },
    ),
  };
}

function ingressClass(): Record<string, Schema> {
  return {
    ...networkingKind('IngressClass', 'A kind of ingress, implemented by one controller.', {
      spec: ref(`${P}IngressClassSpec`, 'The controller and its parameters.'),
    }),
    [`${P}IngressClassSpec`]: obj('The controller of a class and its parameters.', {
      controller: str('The controller name, a domain-prefixed path such as example.com/ingress.'),
      parameters: ref(`${P}IngressClassParametersReference`, 'An object with controller settings.'),
    }),
    [`${P}IngressClassParametersReference`]: obj(
      'An object that holds the settings of a class.',
      {
        apiGroup: str('The API group of the object; the core group when missing.'),
        kind: str('The kind of the object.'),
        name: str('The name of the object.'),
        namespace: str('Its namespace, when scope is Namespace.'),
        scope: str('Cluster or Namespace.'),
      },
      { required: ['kind', 'name'] },
    ),
  };
}

export function networkingSchemas(): Record<string, Schema> {
  return {
    ...networkPolicy(),
    ...ingress(),
    ...ingressClass(),
  };
}
