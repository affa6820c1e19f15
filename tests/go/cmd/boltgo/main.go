// Command boltgo is the Go side of pybbolt's test suite: it drives the real
// go.etcd.io/bbolt library to generate fixtures, dump the logical content of
// a database, run cursor operations, replay write workloads and hold file
// locks, always printing JSON that the Python tests compare against.
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  boltgo gen-fixtures OUTDIR
  boltgo dump FILE
  boltgo cursor FILE            (JSON requests on stdin, one per line)
  boltgo replay WORKLOAD.json FILE
  boltgo decode-page FILE       (the bytes of one page)
  boltgo hold FILE --mode write|read --seconds S [--timeout S]
  boltgo export FILE [BUCKET_HEX...]
  boltgo bench OP --n N --db FILE [--keys FILE] [--dst FILE] [--reps R]
  boltgo gen-shape etcd|raft|containerd FILE [--scale F]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var code int
	switch cmd {
	case "gen-fixtures":
		code = cmdGenFixtures(args)
	case "dump":
		code = cmdDump(args)
	case "cursor":
		code = cmdCursor(args)
	case "replay":
		code = cmdReplay(args)
	case "decode-page":
		code = cmdDecodePage(args)
	case "hold":
		code = cmdHold(args)
	case "export":
		code = cmdExport(args)
	case "bench":
		code = cmdBench(args)
	case "gen-shape":
		code = cmdGenShape(args)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "boltgo: unknown command %q\n%s", cmd, usage)
		code = 2
	}
	os.Exit(code)
}

// usageError prints a message and the usage text on stderr and returns the
// exit status for bad arguments.
func usageError(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "boltgo: "+format+"\n", a...)
	fmt.Fprint(os.Stderr, usage)
	return 2
}
