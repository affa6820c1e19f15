#!/usr/bin/env bash
# Builds the Go test helpers into <repo>/.bin:
#   .bin/boltgo  - fixture generator, dump, cursor, replay and hold (tests/go/cmd/boltgo)
#   .bin/bbolt   - the reference bbolt CLI, go.etcd.io/bbolt/cmd/bbolt@v1.5.0
# Callable from any directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/.bin"
bbolt_version="v1.5.0"
mkdir -p "$bin"

# boltgo: go build is incremental (build cache), so this is quick when
# nothing changed.
(cd "$here" && go build -buildvcs=false -o "$bin/boltgo" ./cmd/boltgo)

# bbolt CLI: skip when the installed binary was built from that module
# version (its `bbolt version` text says 1.4.0-alpha.0 even in v1.5.0, so
# ask the Go build info instead).
info=""
if [ -x "$bin/bbolt" ]; then
    info="$(go version -m "$bin/bbolt" 2>/dev/null || true)"
fi
if ! grep -Eq "^[[:space:]]+mod[[:space:]]+go\.etcd\.io/bbolt[[:space:]]+$bbolt_version([[:space:]]|\$)" <<<"$info"; then
    (cd "$here" && GOBIN="$bin" GOFLAGS=-buildvcs=false go install "go.etcd.io/bbolt/cmd/bbolt@$bbolt_version")
fi
