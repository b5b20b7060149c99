#!/usr/bin/env bash
# Installs the Debian packages Strom's node agent and tests need, if any is
# missing. Idempotent; needs root and apt.
set -euo pipefail
pkgs=(containerd runc containernetworking-plugins iptables nftables iproute2 busybox-static dnsperf)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
