#!/usr/bin/env bash
# Installs everything Skiff needs on a Debian 12 machine, and nothing twice.
# Debian packages: the container runtime (runc, containerd as the alternative CRI),
# CNI plugins, etcd, skopeo, busybox-static (the test image), kernel tools.
# npm packages: from package-lock.json, including Node 24 (the `node` package).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(runc conmon containerd etcd-server etcd-client skopeo containernetworking-plugins busybox-static attr
      iptables nftables iproute2 conntrack kmod procps util-linux)

missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages such as etcd-server and containerd would start their own daemons on install;
  # Skiff starts the ones it needs itself, on loopback, with its own data dirs.
  policy=/usr/sbin/policy-rc.d
  saved=""
  if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
  printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"
  restore() { if [ -n "$saved" ]; then mv "$saved" "$policy"; else rm -f "$policy"; fi; }
  trap restore EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  restore; trap - EXIT
fi

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
fi
