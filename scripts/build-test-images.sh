#!/usr/bin/env bash
# Builds the test image archives (strom.test/busybox:1, strom.test/httpserver:1)
# into test/images/out/*.tar from local files only. Needs busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./test/images/build -out test/images/out "$@"
