#!/usr/bin/env bash
# make run: a single-node Strom cluster on this machine, in the foreground.
# Extra stromd flags: make run STROMD_FLAGS='--proxy-mode=nftables'.
# Starts containerd if it is not running (and leaves it running), then
# stromd with its in-process node agent. Ctrl-C stops stromd.
set -euo pipefail
DATA_DIR=${1:-/var/lib/strom}
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "make run needs root (containerd, network namespaces, iptables)" >&2
  exit 1
fi
mkdir -p "$DATA_DIR"
SOCK=/run/containerd/containerd.sock
# containerd runs on its own, as on a Kubernetes node: it outlives stromd
# (pods keep running across a stromd restart) and the next make run reuses
# it. Under systemd it is the package's containerd.service; otherwise a
# daemon of its own session, its pid in $DATA_DIR/containerd.pid. If it is
# down anyway, the node reports NotReady ("container runtime is down")
# until it answers.
if ! [ -S "$SOCK" ] || ! ctr --address "$SOCK" version >/dev/null 2>&1; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    echo "run: starting containerd.service"
    systemctl start containerd
  else
    echo "run: starting containerd (log: $DATA_DIR/containerd.log); it keeps running after stromd stops"
    setsid containerd >>"$DATA_DIR/containerd.log" 2>&1 </dev/null &
    echo $! >"$DATA_DIR/containerd.pid"
    echo "run: stop it with: kill \$(cat $DATA_DIR/containerd.pid)"
  fi
  for _ in $(seq 1 100); do
    ctr --address "$SOCK" version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
cat <<MSG
run: starting stromd (data in $DATA_DIR). In another shell:
  export STROM_CONFIG=$DATA_DIR/admin.conf
  bin/strom get nodes
  bin/strom apply -f docs/examples/web.yaml
kubectl, helm and client-go use the Kubernetes API at https://127.0.0.1:6443:
  export KUBECONFIG=$DATA_DIR/kubeconfig
  kubectl get pods -A
MSG
# STROMD_FLAGS adds flags, e.g. make run STROMD_FLAGS=--proxy-mode=nftables
# shellcheck disable=SC2086
bin/stromd --data-dir "$DATA_DIR" --containerd-address "$SOCK" --image-dir test/images/out ${STROMD_FLAGS:-}
