/** The labels and annotations the kubelet puts on CRI sandboxes and containers, by which it finds them again. */
export const POD_NAME = 'io.kubernetes.pod.name';
export const POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const POD_UID = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME = 'io.kubernetes.container.name';
/** annotation: `init` for init containers, absent for regular ones */
export const CONTAINER_KIND = 'io.skiff.container.kind';
export const RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';
