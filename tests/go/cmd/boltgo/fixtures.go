package main

import "fmt"

// fixtureList is the set of databases written by gen-fixtures, in manifest
// order. Each Build lives in a fixtures_*.go file next to this one.
func fixtureList() []fixture {
	list := []fixture{
		{
			Name:        "empty.db",
			Description: "database just created, no transaction: 2 meta pages, empty freelist, empty root leaf",
			Features:    []string{"empty"},
		},
		{
			Name:        "inline_bucket.db",
			Description: "one top-level bucket 'settings' with 4 small keys, one with an empty value; stored inline",
			Features:    []string{"inline-bucket", "empty-values"},
			Seed:        1,
			Build:       buildInlineBucket,
		},
		{
			Name:        "many_buckets.db",
			Description: "150 top-level buckets created in random order over several transactions: empty, inline, leaf-rooted and branch-rooted ones; some deleted, some emptied again",
			Features:    []string{"multiple-buckets", "empty-buckets", "inline-bucket", "branch-page", "freelist"},
			Seed:        2,
			Build:       buildManyBuckets,
		},
		{
			Name:        "nested.db",
			Description: "buckets nested 6 levels deep mixing inline and non-inline sub-buckets, sub-buckets interleaved with keys, sequences via NextSequence and SetSequence (up to 2^64-1), a subtree deleted",
			Features:    []string{"nested-buckets", "inline-bucket", "sequences", "overflow"},
			Seed:        3,
			Build:       buildNested,
		},
		{
			Name:        "binary_keys.db",
			Description: "all 256 one-byte keys, keys at MaxKeySize (32768) and just below, empty values, valid and invalid UTF-8 keys and bucket names, prefix-ordering keys, random binary pairs",
			Features:    []string{"binary-keys", "max-key-size", "empty-values", "invalid-utf8", "overflow"},
			Seed:        4,
			Build:       buildBinaryKeys,
		},
		{
			Name:        "overflow.db",
			Description: "values of 10 KB, 100 KB and 1 MB on overflow pages (the 1 MB one alone in its bucket), values of exactly 1024 and 1025 bytes, a 100 KB value overwritten, a nested bucket with a 20 KB value, two 1 MB values deleted (freelist on more than one page)",
			Features:    []string{"overflow", "freelist", "freelist-overflow", "nested-buckets"},
			Seed:        5,
			Build:       buildOverflow,
		},
		{
			Name:        "many_keys.db",
			Description: "55,000 keys in one bucket (more than 20000: entries not listed) written over five transactions: a 3-level B+tree, root branch page over branch pages over ~760 leaves",
			Features:    []string{"many-keys", "branch-page", "multi-level-branch", "unlisted-entries"},
			Seed:        6,
			Build:       buildManyKeys,
		},
	}
	for _, seed := range []int64{1, 2, 3} {
		p := churnProfiles[seed]
		list = append(list, fixture{
			Name:        fmt.Sprintf("churn_seed%d.db", seed),
			Description: fmt.Sprintf("random operation mix, seed %d: %s", seed, p.about),
			Features:    []string{"churn", "freelist", "nested-buckets", "overflow", "rollback"},
			Seed:        seed,
			Build:       buildChurn(p),
		})
	}
	list = append(list,
		fixture{
			Name:           "churn_seed1_nofreelistsync.db",
			Description:    "the churn workload of churn_seed1.db (same operations, same content) with NoFreelistSync=true: no freelist page, meta freelist = 2^64-1",
			Features:       []string{"churn", "no-freelist-sync"},
			Seed:           1,
			NoFreelistSync: true,
			Build:          buildChurn(churnProfiles[1]),
		},
		fixture{
			Name:         "churn_seed1_hashmap.db",
			Description:  "the churn workload of churn_seed1.db (same operations, same content) with FreelistType=hashmap",
			Features:     []string{"churn", "freelist", "freelist-hashmap"},
			Seed:         1,
			FreelistType: "hashmap",
			Build:        buildChurn(churnProfiles[1]),
		},
		fixture{
			Name:        "range_deletes.db",
			Description: "5000 sequential keys, then ranges deleted: with a cursor, key by key, every other key, the tail; a second bucket emptied completely",
			Features:    []string{"range-deletes", "freelist", "cursor-delete", "empty-buckets"},
			Seed:        7,
			Build:       buildRangeDeletes,
		},
		fixture{
			Name:            "pending_pages.db",
			Description:     "writes committed while a read transaction stays open: the freelist written by the last commit includes pages still pending for that reader",
			Features:        []string{"pending-pages", "freelist"},
			Seed:            8,
			InitialMmapSize: 1 << 20,
			Build:           buildPendingPages,
		},
	)
	for _, ps := range []int{4096, 8192, 16384, 32768, 65536} {
		list = append(list, fixture{
			Name:        fmt.Sprintf("pagesize_%d.db", ps),
			Description: fmt.Sprintf("Options.PageSize = %d: keyed bucket with deletes and overwrites, nested buckets 3 levels deep with a value larger than a page, values on overflow pages (200 KB at 65536, 4 pages otherwise)", ps),
			Features:    []string{"page-size", "nested-buckets", "overflow", "freelist"},
			Seed:        int64(ps),
			PageSize:    ps,
			Build:       buildPageSize,
		})
	}
	list = append(list,
		fixture{
			Name:        "bacalhau_compute.db",
			Description: "look-alike of a bacalhau compute node execution store: execution (JSON values), execution-history (sub-bucket per execution, NextSequence keys), execution-index (sub-bucket per job); state updates and cleanup deletes",
			Features:    []string{"real-world-shape", "json-values", "sequences", "nested-buckets"},
			Seed:        9,
			Build:       buildBacalhauCompute,
		},
		fixture{
			Name:        "fill_100.db",
			Description: "FillPercent 1.0 on every bucket: sequential and random inserts, nested bucket; same content as fill_10.db",
			Features:    []string{"fill-percent"},
			Seed:        10,
			FillPercent: 1.0,
			Build:       buildFill,
		},
		fixture{
			Name:        "fill_10.db",
			Description: "FillPercent 0.1 on every bucket: sequential and random inserts, nested bucket; same content as fill_100.db",
			Features:    []string{"fill-percent"},
			Seed:        10,
			FillPercent: 0.1,
			Build:       buildFill,
		},
	)
	return list
}
