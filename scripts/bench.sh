#!/usr/bin/env bash
# make bench: the benchmarks recorded in docs/BENCHMARKS.md.
# STROM_BENCH_EVENTS sets the history size of the rebuild/restart/--at
# benchmarks (default 1,000,000). BENCH_DNS=1 also runs the side-by-side
# DNS comparison with CoreDNS (builds CoreDNS from its Go module once).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== spine: write path, projection rebuild, restart to serving"
go test -run '^$' -bench 'WritePath' -benchtime 20000x ./test/bench/
go test -run '^$' -bench 'SnapshotSchedule|MemoryUnderLoad' -benchtime 200000x -timeout 20m ./test/bench/
go test -run '^$' -bench 'ProjectionRebuild|RestartToServing' -benchtime 1x -timeout 60m ./test/bench/
echo "== time travel (--at, export in-process and through the strom binary, offline replay), scheduling end to end"
go test -run '^$' -bench 'TimeTravel|SchedulingE2E' -benchtime 1x -timeout 60m ./test/bench/
echo "== workloads: a Job of 10,000 completions, parallelism 100, on 10 hollow nodes; 1,000 CronJobs every minute"
go test -run '^$' -bench 'JobCompletions|CronJobLateness' -benchtime 1x -timeout 30m ./test/bench/
echo "== workloads: a DaemonSet across 1,000 and 5,000 hollow nodes (STROM_BENCH_DS_NODES), created then rolled out"
go test -run '^$' -bench 'DaemonSetRollout' -benchtime 1x -timeout 60m ./test/bench/
echo "== Kubernetes HTTPS API beside the NATS API: writes, lists, watch fan-out, kubectl vs strom get, stromd's footprint"
echo "   (STROM_BENCH_LIST_PODS, STROM_BENCH_WATCHERS, STROM_BENCH_WATCH_EVENTS, STROM_BENCH_KUBECTL_PODS set the sizes;"
echo "   BENCH_KUBEAPI_BASE=<commit> also builds that commit's stromd, e.g. fa23e6f from before the generic server, in a git worktree)"
go test -run '^$' -bench 'KubeAPIWrite' -benchtime 10000x -timeout 30m ./test/bench/
go test -run '^$' -bench 'KubeAPIList|KubectlGetPods' -benchtime 10x -timeout 30m ./test/bench/
go test -run '^$' -bench 'KubeAPIWatchFanout' -benchtime 1x -timeout 90m ./test/bench/
if [ -n "${BENCH_KUBEAPI_BASE:-}" ]; then
  base_tree="$(mktemp -d)/strom-${BENCH_KUBEAPI_BASE}"
  git worktree add --detach "$base_tree" "$BENCH_KUBEAPI_BASE"
  trap 'git worktree remove --force "$base_tree"' EXIT
  STROM_BENCH_BASE_TREE="$base_tree" go test -run '^$' -bench 'KubeAPIFootprint' -benchtime 1x -timeout 30m ./test/bench/
  git worktree remove --force "$base_tree"
  trap - EXIT
else
  go test -run '^$' -bench 'KubeAPIFootprint' -benchtime 1x -timeout 30m ./test/bench/
fi
echo "== services end to end: endpoint change to rules, iptables and nftables modes (root: real containerd, CNI in a netns)"
go test -run '^$' -bench ServiceRuleLatency -benchtime 1x -timeout 20m ./test/e2e/
echo "== scheduler core"
go test -run '^$' -bench . ./reconcilers/scheduler/
echo "== service proxy (nftables mode, and the iptables mode on both iptables backends; scripts/bench-proxy.sh for more iterations)"
go test -run '^$' -bench . -benchtime 3x -timeout 60m ./agent/proxy/
echo "== DNS query path"
go test -run '^$' -bench . ./dns/
if [ "${BENCH_DNS:-0}" = 1 ]; then
  echo "== DNS vs CoreDNS"
  scripts/bench-dns.sh
fi
