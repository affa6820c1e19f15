module pybbolt/tests/go

go 1.25.0

require go.etcd.io/bbolt v1.5.0
