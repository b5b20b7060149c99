#!/usr/bin/env bash
# Benchmarks Strom's cluster DNS server against CoreDNS serving the same
# records from a zone file, on loopback, with dnsperf (throughput at
# saturation) and dns/cmd/dnsload (latency percentiles at fixed concurrency).
#
# Installs dnsperf (apt) when missing and builds CoreDNS from its Go module
# into a cache directory outside the repository when missing.
#
# Knobs (environment): DURATION (dnsperf seconds, 20), LAT_DURATION (dnsload
# seconds, 10), CONCURRENCY (dnsload workers, 8), ROUNDS (1), SERVICES (1000),
# HEADLESS (100), ENDPOINTS (5), OPEN_RATE (dnsload open-loop queries/s, 5000), STROM_PORT (15353), COREDNS_PORT (15354),
# DNSPERF_CLIENTS (4), DNSPERF_OUTSTANDING (100),
# STROM_BENCH_CACHE (~/.cache/strom-bench), COREDNS_VERSION (v1.12.4).
set -euo pipefail

DURATION=${DURATION:-20}
LAT_DURATION=${LAT_DURATION:-10}
CONCURRENCY=${CONCURRENCY:-8}
OPEN_RATE=${OPEN_RATE:-5000}
ROUNDS=${ROUNDS:-1}
SERVICES=${SERVICES:-1000}
HEADLESS=${HEADLESS:-100}
ENDPOINTS=${ENDPOINTS:-5}
STROM_PORT=${STROM_PORT:-15353}
COREDNS_PORT=${COREDNS_PORT:-15354}
DNSPERF_CLIENTS=${DNSPERF_CLIENTS:-4}
DNSPERF_OUTSTANDING=${DNSPERF_OUTSTANDING:-100}
CACHE=${STROM_BENCH_CACHE:-$HOME/.cache/strom-bench}
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.4}
REPO=$(cd "$(dirname "$0")/.." && pwd)

log() { echo "bench-dns: $*" >&2; }

if ! command -v dnsperf >/dev/null; then
	log "installing dnsperf"
	apt-get install -y dnsperf >/dev/null || { apt-get update >/dev/null && apt-get install -y dnsperf >/dev/null; }
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

COREDNS=$CACHE/bin/coredns-$COREDNS_VERSION
if [ ! -x "$COREDNS" ]; then
	log "building CoreDNS $COREDNS_VERSION into $CACHE (a few minutes)"
	mkdir -p "$CACHE/bin" "$WORK/gobuild"
	# Outside any module, so our go.mod plays no part.
	(cd "$WORK/gobuild" && GOBIN="$WORK/gobuild" GOFLAGS= go install "github.com/coredns/coredns@$COREDNS_VERSION")
	mv "$WORK/gobuild/coredns" "$COREDNS"
fi

log "building the Strom bench server and load generator"
(cd "$REPO" && go build -o "$WORK/dnsbench-server" ./dns/cmd/dnsbench-server && go build -o "$WORK/dnsload" ./dns/cmd/dnsload)

"$WORK/dnsbench-server" -services "$SERVICES" -headless "$HEADLESS" -endpoints "$ENDPOINTS" \
	-zone-file "$WORK/cluster.local.db" -query-file "$WORK/queries.txt"
cat >"$WORK/Corefile" <<CORE
cluster.local:$COREDNS_PORT {
    bind 127.0.0.1
    file $WORK/cluster.local.db cluster.local
}
CORE

"$WORK/dnsbench-server" -addr "127.0.0.1:$STROM_PORT" -services "$SERVICES" -headless "$HEADLESS" \
	-endpoints "$ENDPOINTS" >"$WORK/strom.log" 2>&1 &
PIDS+=($!)
STROM_PID=$!
"$COREDNS" -conf "$WORK/Corefile" >"$WORK/coredns.log" 2>&1 &
PIDS+=($!)
COREDNS_PID=$!

# cpu_ticks PID: user+system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)
# udp_rcvbuf_errors: datagrams the kernel dropped because a receive buffer
# was full (machine-wide, all sockets).
udp_rcvbuf_errors() {
	awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# Wait (bounded) until both answer.
for port in "$STROM_PORT" "$COREDNS_PORT"; do
	for i in $(seq 1 100); do
		if "$WORK/dnsload" -server "127.0.0.1:$port" -queries "$WORK/queries.txt" -c 1 -d 100ms >/dev/null 2>&1; then
			break
		fi
		if [ "$i" = 100 ]; then
			log "server on port $port did not answer"; cat "$WORK/strom.log" "$WORK/coredns.log" >&2; exit 1
		fi
		sleep 0.1
	done
done

log "checking both servers give the same answers"
"$WORK/dnsload" -server "127.0.0.1:$STROM_PORT" -compare "127.0.0.1:$COREDNS_PORT" -queries "$WORK/queries.txt"

echo "== conditions"
echo "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); servers and load generator share them, no pinning"
echo "kernel: $(uname -r); $(go version); CoreDNS $COREDNS_VERSION (file plugin only); $(dnsperf -h 2>&1 | grep -m1 Version | sed 's/^/dnsperf /')"
echo "data: $SERVICES ClusterIP services (2 named ports each), $HEADLESS headless services x $ENDPOINTS endpoints, $(grep -vc '^\$' "$WORK/cluster.local.db") records"
echo "queries: $(wc -l <"$WORK/queries.txt") lines: 60% A ClusterIP, 10% A headless, 20% SRV ClusterIP, 5% SRV headless, 5% NXDOMAIN"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
echo "dnsperf: -l $DURATION -c $DNSPERF_CLIENTS -q $DNSPERF_OUTSTANDING (UDP); dnsload: closed loop $CONCURRENCY workers x 1 query in flight, $LAT_DURATION s; open loop $OPEN_RATE queries/s over 4 sockets, $LAT_DURATION s (UDP)"

declare -A QPS LAT LOADQ P50 P99 P999 CPUQ OP50 OP99 OLOST
for round in $(seq 1 "$ROUNDS"); do
	for name in strom coredns; do
		port=$STROM_PORT pid=$STROM_PID
		[ "$name" = coredns ] && port=$COREDNS_PORT pid=$COREDNS_PID
		t0=$(cpu_ticks "$pid")
		out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/queries.txt" -l "$DURATION" \
			-c "$DNSPERF_CLIENTS" -q "$DNSPERF_OUTSTANDING" 2>&1)
		qps=$(echo "$out" | awk '/Queries per second/ {printf "%.0f", $4}')
		avg=$(echo "$out" | awk '/Average Latency/ {printf "%.3f", $4*1000}')
		lost=$(echo "$out" | awk '/Queries lost/ {print $3}')
		done_q=$(echo "$out" | awk '/Queries completed/ {print $3}')
		t1=$(cpu_ticks "$pid")
		cpuq=$(awk -v t=$((t1 - t0)) -v hz="$TCK" -v q="$done_q" 'BEGIN {printf "%.1f", (q > 0 ? t / hz * 1e6 / q : 0)}')
		json=$("$WORK/dnsload" -server "127.0.0.1:$port" -queries "$WORK/queries.txt" \
			-c "$CONCURRENCY" -d "${LAT_DURATION}s" -label "$name")
		e0=$(udp_rcvbuf_errors)
		open=$("$WORK/dnsload" -server "127.0.0.1:$port" -queries "$WORK/queries.txt" \
			-c 4 -rate "$OPEN_RATE" -d "${LAT_DURATION}s" -label "$name")
		rcvbuf=$(($(udp_rcvbuf_errors) - e0))
		field() { echo "$json" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
		ofield() { echo "$open" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
		echo "round $round $name: dnsperf ${qps} qps, avg ${avg} ms, lost ${lost}, server CPU ${cpuq} us/query; dnsload $(printf %.0f "$(field qps)") qps, p50 $(field p50_us) us, p99 $(field p99_us) us, p99.9 $(field p999_us) us; open loop ${OPEN_RATE}/s: p50 $(ofield p50_us) us, p99 $(ofield p99_us) us, unanswered $(ofield timeouts) (UDP receive-buffer drops meanwhile: $rcvbuf)"
		OP50[$name]+="$(ofield p50_us) "
		OP99[$name]+="$(ofield p99_us) "
		OLOST[$name]+="$(ofield timeouts) "
		QPS[$name]+="$qps "
		LAT[$name]+="$avg "
		CPUQ[$name]+="$cpuq "
		LOADQ[$name]+="$(printf %.0f "$(field qps)") "
		P50[$name]+="$(field p50_us) "
		P99[$name]+="$(field p99_us) "
		P999[$name]+="$(field p999_us) "
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== medians over $ROUNDS round(s)"
printf '| server | dnsperf QPS | dnsperf avg latency (ms) | server CPU per query (us) | dnsload QPS (c=%s) | p50 (us) | p99 (us) | p99.9 (us) |\n' "$CONCURRENCY"
printf '|---|---|---|---|---|---|---|---|\n'
for name in strom coredns; do
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" \
		"$(echo "${QPS[$name]}" | median)" "$(echo "${LAT[$name]}" | median)" "$(echo "${CPUQ[$name]}" | median)" "$(echo "${LOADQ[$name]}" | median)" \
		"$(echo "${P50[$name]}" | median)" "$(echo "${P99[$name]}" | median)" "$(echo "${P999[$name]}" | median)"
done
echo
printf '| server | open loop %s/s: p50 (us) | p99 (us) | unanswered |\n' "$OPEN_RATE"
printf '|---|---|---|---|\n'
for name in strom coredns; do
	printf '| %s | %s | %s | %s |\n' "$name" "$(echo "${OP50[$name]}" | median)" "$(echo "${OP99[$name]}" | median)" "$(echo "${OLOST[$name]}" | median)"
done
s=$(echo "${QPS[strom]}" | median); c=$(echo "${QPS[coredns]}" | median)
echo "strom/coredns dnsperf QPS ratio: $(awk -v s="$s" -v c="$c" 'BEGIN {printf "%.2f", s/c}')"
