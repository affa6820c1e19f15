#!/usr/bin/env bash
# Write tests/fixtures/real/containerd16.db: the metadata store (meta.db) of a
# real containerd 1.6 (Debian's containerd), run as root with its root, state
# and sockets in a temporary directory (CRI plugin off), after a fixed
# sequence of ctr requests: a namespace with a label, a lease that does not
# expire, an image imported from a small OCI archive built here (so its
# manifest, config and layer blobs have fixed digests), a label on a blob and
# an active snapshot.  Creation and update times differ on every run; names,
# labels and digests do not.
#   usage: tests/go/realprog/containerd.sh OUT.db
set -euo pipefail
out=${1:?usage: containerd.sh OUT.db}
for tool in containerd ctr; do
  command -v "$tool" >/dev/null || { echo "containerd.sh: $tool is required (apt-get install containerd)" >&2; exit 1; }
done
containerd --version >&2
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
TOML
containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
pid=$!
ctr() { command ctr --address "$dir/containerd.sock" "$@"; }
for _ in $(seq 100); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
ctr version >/dev/null
ctr namespaces create fixture team=pybbolt
ctr -n fixture leases create --id lease-1 --expires 0 purpose=fixture >/dev/null
# A one-layer OCI image archive with fixed bytes (fixed digests).
python3 "$(dirname "$0")/oci_image.py" "$dir/image.tar"
ctr -n fixture images import --no-unpack --platform linux/amd64 "$dir/image.tar" >/dev/null
ctr -n fixture images label docker.io/pybbolt/fixture:1.0 purpose=fixture >/dev/null
ctr -n fixture snapshots --snapshotter native prepare snap-1 >/dev/null
kill "$pid"; wait "$pid" || true; pid=
cp "$dir/root/io.containerd.metadata.v1.bolt/meta.db" "$out"
echo "wrote $out" >&2
