#!/usr/bin/env bash
# make run: a single-node Strom cluster on this machine, in the foreground.
# Extra stromd flags: make run STROMD_FLAGS='--proxy-mode=nftables'.
# Starts containerd if it is not running, then stromd with its in-process
# node agent. Ctrl-C stops stromd (and the containerd this script started).
set -euo pipefail
DATA_DIR=${1:-/var/lib/strom}
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "make run needs root (containerd, network namespaces, iptables)" >&2
  exit 1
fi
mkdir -p "$DATA_DIR"
SOCK=/run/containerd/containerd.sock
started_containerd=""
if ! [ -S "$SOCK" ] || ! ctr --address "$SOCK" version >/dev/null 2>&1; then
  echo "run: starting containerd (log: $DATA_DIR/containerd.log)"
  containerd >"$DATA_DIR/containerd.log" 2>&1 &
  started_containerd=$!
  for _ in $(seq 1 100); do
    ctr --address "$SOCK" version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
cleanup() {
  if [ -n "$started_containerd" ]; then kill "$started_containerd" 2>/dev/null || true; fi
}
trap cleanup EXIT
cat <<MSG
run: starting stromd (data in $DATA_DIR). In another shell:
  export STROM_CONFIG=$DATA_DIR/admin.conf
  bin/strom get nodes
  bin/strom apply -f docs/examples/web.yaml
MSG
# STROMD_FLAGS adds flags, e.g. make run STROMD_FLAGS=--proxy-mode=nftables
# shellcheck disable=SC2086
bin/stromd --data-dir "$DATA_DIR" --containerd-address "$SOCK" --image-dir test/images/out ${STROMD_FLAGS:-}
