#!/usr/bin/env bash
# Builds the real kubectl and helm that Strom's end-to-end tests drive, from
# the nested modules test/tools/kubectl and test/tools/helm (sources from the
# Go module proxy only), into test/tools/bin/. A binary newer than its module's
# go.mod, go.sum and *.go files (and this script, which holds the ldflags) is
# kept as it is, so only the first run on a machine pays for the builds.
#
# Usage: scripts/build-test-tools.sh        (GO=/path/to/go to pick a toolchain)
set -euo pipefail

GO=${GO:-go}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
script="$root/scripts/build-test-tools.sh"
tools="$root/test/tools"
bin="$tools/bin"

# Versions reported by `kubectl version --client` and `helm version`; keep in
# step with the k8s.io and helm.sh versions in the nested go.mod files.
kube_version=v1.37.2
kube_major=1
kube_minor=37
helm_version=v4.3.2

kubectl_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	kubectl_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$kube_major"
	kubectl_ldflags+=" -X $pkg.gitMinor=$kube_minor -X $pkg.gitTreeState=clean"
done
helm_ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version"
helm_ldflags+=" -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"

if ! command -v "$GO" >/dev/null 2>&1; then
	echo "build-test-tools: Go toolchain '$GO' not found (set GO=/path/to/go)" >&2
	exit 1
fi

mkdir -p "$bin"

# Seconds since the epoch with a fraction, for the timings printed below.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { d = b - a; if (d >= 60) printf "%dm%04.1fs", d / 60, d - 60 * int(d / 60); else printf "%.1fs", d }'; }

# up_to_date OUT DIR: OUT exists and is newer than every input of DIR's module.
up_to_date() {
	local out=$1 dir=$2 f
	[ -x "$out" ] || return 1
	for f in "$dir/go.mod" "$dir/go.sum" "$dir"/*.go "$script"; do
		[ -e "$f" ] || continue
		[ "$out" -nt "$f" ] || return 1
	done
}

# build NAME LDFLAGS: builds test/tools/NAME into test/tools/bin/NAME.
build() {
	local name=$1 ldflags=$2
	local dir="$tools/$name" out="$bin/$name" start
	start=$(now)
	if up_to_date "$out" "$dir"; then
		echo "$name: cached ($(elapsed "$start")) test/tools/bin/$name"
		return 0
	fi
	# Build beside the target and rename, so an interrupted or failed build
	# never leaves a binary that looks newer than its inputs.
	local tmp="$out.tmp.$$"
	rm -f "$tmp"
	# Each tool is a module of its own, never part of a workspace. Its go.sum
	# is complete, so -mod=readonly (which also overrides a -mod in $GOFLAGS)
	# builds it without rewriting go.mod or go.sum; -mod=mod is not needed.
	if ! (cd "$dir" && GOWORK=off CGO_ENABLED=${CGO_ENABLED:-0} \
		"$GO" build -mod=readonly -trimpath -buildvcs=false -ldflags "$ldflags" -o "$tmp" .); then
		rm -f "$tmp"
		echo "build-test-tools: building $name in test/tools/$name failed (see the errors above)" >&2
		exit 1
	fi
	mv -f "$tmp" "$out"
	echo "$name: built ($(elapsed "$start")) test/tools/bin/$name"
}

build kubectl "$kubectl_ldflags"
build helm "$helm_ldflags"
