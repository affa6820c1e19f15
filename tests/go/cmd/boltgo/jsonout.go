package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// marshal encodes v as compact JSON without HTML escaping and without the
// trailing newline that json.Encoder adds.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// printJSON writes v as one line of JSON on stdout; an encoding failure is
// reported on stderr.
func printJSON(v any) {
	if err := writeJSONLine(os.Stdout, v); err != nil {
		fmt.Fprintf(os.Stderr, "boltgo: encoding output: %v\n", err)
	}
}

// printError prints {"error": msg} on stdout and returns exit status 1.
func printError(msg string) int {
	printJSON(map[string]string{"error": msg})
	return 1
}
