package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltgo hold FILE --mode write|read --seconds S [--timeout S]: opens the
// database (read-write: exclusive file lock; read: shared lock), prints
// "locked" once it holds the lock, sleeps, closes. --timeout is bbolt's
// Options.Timeout for getting the lock (default 0: wait as long as needed);
// when it expires, {"error": "timeout"} is printed and the exit status is 1.

func cmdHold(args []string) int {
	var file, mode string
	seconds, timeout := -1.0, 0.0
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		if !strings.HasPrefix(name, "-") {
			if file != "" {
				return usageError("hold: unexpected argument %q", a)
			}
			file = a
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return usageError("hold: flag %s needs a value", name)
			}
			i++
			val = args[i]
		}
		switch strings.TrimLeft(name, "-") {
		case "mode":
			mode = val
		case "seconds", "timeout":
			f, err := strconv.ParseFloat(val, 64)
			if err != nil || f < 0 {
				return usageError("hold: bad value for %s: %q", name, val)
			}
			if strings.TrimLeft(name, "-") == "seconds" {
				seconds = f
			} else {
				timeout = f
			}
		default:
			return usageError("hold: unknown flag %s", name)
		}
	}
	if file == "" || (mode != "write" && mode != "read") || seconds < 0 {
		return usageError("hold needs FILE, --mode write|read and --seconds S")
	}
	opts := &bolt.Options{
		ReadOnly: mode == "read",
		Timeout:  time.Duration(timeout * float64(time.Second)),
	}
	db, err := bolt.Open(file, 0o600, opts)
	if err != nil {
		return printError(err.Error())
	}
	fmt.Println("locked")
	os.Stdout.Sync()
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	if err := db.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "boltgo: close: %v\n", err)
		return 1
	}
	return 0
}
