#!/usr/bin/env bash
# Benchmarks of Strom's service proxy (agent/proxy) against real
# nftables and iptables in throwaway network namespaces. Needs root.
#
# Backends: "nftables" is the nftables mode (nft -f); "nft" and "legacy"
# are the iptables mode on iptables-nft-restore / iptables-legacy-restore.
#
#   scripts/bench-proxy.sh            # everything (iptables-nft at 10,000 services takes minutes)
#   SIZES='1000' scripts/bench-proxy.sh
#   BACKENDS='nftables' scripts/bench-proxy.sh
#   BENCHES='SyncIncremental' FULL_N=1 INCR_N=50 scripts/bench-proxy.sh
#
# Render = building restore input (or the nft script) in Go; restore =
# running iptables-restore (and, on full syncs, checking the hook rules)
# or nft.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $EUID -ne 0 ]]; then
	echo "bench-proxy: needs root (network namespaces, iptables)" >&2
	exit 1
fi
SIZES=${SIZES:-"1000 10000"}
BACKENDS=${BACKENDS:-"nftables legacy nft"}
FULL_N=${FULL_N:-3}
INCR_N=${INCR_N:-200}
OUT=${OUT:-/dev/stdout}
BENCHES=${BENCHES:-"SyncFresh SyncFull SyncIncremental ProgrammingLatency"}

BIN=$(mktemp /tmp/strom-proxy-bench.XXXXXX)
trap 'rm -f "$BIN"' EXIT
go test -c -o "$BIN" ./agent/proxy/

run() { # pattern benchtime
	"$BIN" -test.run '^$' -test.bench "$1" -test.benchtime "$2" -test.timeout 120m | grep -E '^(Benchmark|cpu|goos)' | tee -a "$OUT"
}
{ echo "# $(date -u +%FT%TZ) $(uname -r) $(iptables --version) $(nft --version) load: $(cut -d' ' -f1-3 /proc/loadavg)"; nproc; } | tee -a "$OUT"
run 'BenchmarkRender(NFT)?$' 10x
for be in $BACKENDS; do
	for n in $SIZES; do
		for bench in $BENCHES; do
			[[ $bench == SyncFresh && $be != nftables ]] && continue
			count=$INCR_N
			[[ $bench == SyncFull || $bench == SyncFresh ]] && count=$FULL_N
			run "Benchmark$bench/$be/$n\$" "${count}x"
		done
	done
done
