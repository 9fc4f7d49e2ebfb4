#!/usr/bin/env bash
# Builds vigil's release binaries: static (CGO_ENABLED=0), trimmed, stamped
# with the version and commit, one per platform (default linux/amd64 and
# linux/arm64), into $DIST (default dist/) as vigil-OS-ARCH, with
# SHA256SUMS. `make release` runs it, and so does the Dockerfile.
#
#   scripts/release.sh [OS/ARCH ...]
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
DIST=${DIST:-dist}
PKG=github.com/vigil-validator/vigil
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
platforms=("$@")
if [ ${#platforms[@]} -eq 0 ]; then
	platforms=(linux/amd64 linux/arm64)
fi
mkdir -p "$DIST"
for p in "${platforms[@]}"; do
	os=${p%/*}
	arch=${p#*/}
	out="$DIST/vigil-$os-$arch"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath \
		-ldflags "-s -w -X $PKG/internal/buildinfo.Version=$VERSION -X $PKG/internal/buildinfo.Commit=$COMMIT" \
		-o "$out" ./cmd/vigil
	echo "release: $out"
done
(cd "$DIST" && sha256sum vigil-* >SHA256SUMS)
echo "release: $DIST/SHA256SUMS"
