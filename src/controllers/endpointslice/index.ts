/**
 * The EndpointSlice and Endpoints controllers: every Service with a selector gets EndpointSlices
 * (`kubernetes.io/service-name`, managed by `endpointslice-controller.k8s.io`) and a legacy
 * Endpoints object listing the selected pods' IPs, ports and readiness.
 */
export {
  ENDPOINT_SLICES,
  ENDPOINTS,
  type EndpointControllerOptions,
  runEndpointControllers,
  SERVICES,
} from './controller.ts';
export {
  desiredEndpoints,
  desiredSlices,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  resolveTargetPort,
  SERVICE_NAME_LABEL,
  selects,
} from './desired.ts';
