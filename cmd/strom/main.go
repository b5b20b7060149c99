// Command strom is Strom's command-line client, with kubectl's habits:
// apply -f, get -o yaml, describe, delete, plus the log's own verbs:
// history, get --at, stream info.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
