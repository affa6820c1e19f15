#!/usr/bin/env bash
# Write tests/fixtures/real/etcd34.db: the bbolt file (member/snap/db) of a real
# etcd 3.4 member (Debian's etcd-server), after a fixed sequence of requests.
# The revisions, versions and the lease ID are fixed by that sequence (the lease
# is granted with an explicit ID through etcd's JSON gateway), so the decoded
# content the tests expect is the same on every run.
#   usage: tests/go/realprog/etcd.sh OUT.db   (ETCD_PORT: client port, default 42379)
set -euo pipefail
out=${1:?usage: etcd.sh OUT.db}
port=${ETCD_PORT:-42379}
peer=$((port + 1))
for tool in etcd etcdctl curl; do
  command -v "$tool" >/dev/null || { echo "etcd.sh: $tool is required (apt-get install etcd-server etcd-client curl)" >&2; exit 1; }
done
etcd --version | head -1 >&2
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
url=http://127.0.0.1:$port
etcd --name fixture --data-dir "$dir/data" \
  --listen-client-urls "$url" --advertise-client-urls "$url" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "fixture=http://127.0.0.1:$peer" --initial-cluster-token pybbolt-fixture \
  --initial-cluster-state new >"$dir/etcd.log" 2>&1 &
pid=$!
export ETCDCTL_API=3
ctl() { etcdctl --endpoints "$url" "$@" >/dev/null; }
for _ in $(seq 100); do ctl endpoint health 2>/dev/null && break; sleep 0.1; done
ctl endpoint health
gateway() { curl -sf -X POST "$url/v3/$1" -d "$2" >/dev/null; }
# Revision 1 is the empty store; each request below makes one revision.
ctl put foo bar                                   # rev 2: foo v1
ctl put foo baz                                   # rev 3: foo v2
ctl put greeting hello                            # rev 4
gateway lease/grant '{"TTL": 3600, "ID": 4660}'   # lease 0x1234 (no revision)
ctl put session/1 alive --lease=1234              # rev 5 (etcdctl takes the lease ID in hex)
ctl del greeting                                  # rev 6: tombstone
gateway kv/put '{"key": "YmluAA==", "value": "AP+A"}'  # rev 7: key "bin\0", value 00 ff 80
ctl compact 4 --physical                          # drops foo@2 (superseded at rev 4)
ctl put foo qux                                   # rev 8: foo v3
# Auth data (auth stays disabled; these do not make revisions).
ctl role add reader
ctl role grant-permission reader read config/ --prefix
ctl user add alice --new-user-password=secret     # a bcrypt hash: differs on every run
ctl user grant-role alice reader
kill "$pid"; wait "$pid" || true; pid=
cp "$dir/data/member/snap/db" "$out"
echo "wrote $out" >&2
