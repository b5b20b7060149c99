// Package images builds the OCI image archives Strom's tests run, from local
// files only: no registry, no network.
//
// Each image is written as a tar holding an OCI image layout (oci-layout,
// index.json, blobs/sha256/...) plus a docker-archive style manifest.json, so
// both `ctr images import` and containerd's Go client Import accept it. Layers
// are built in Go as gzip-compressed tar streams with fixed timestamps, so the
// same inputs always give the same digests.
//
// Images:
//   - strom.test/busybox:1: Debian's static /bin/busybox (package
//     busybox-static) with applet symlinks in /bin.
//   - strom.test/httpserver:1: the static Go HTTP server in ./httpserver,
//     compiled with CGO_ENABLED=0 by `go build` at build time.
//
// The command in ./build writes them to a directory (scripts/build-test-images.sh
// uses test/images/out); tests call BuildAll directly.
package images
