// Command logdriver is Strom's container log driver as a standalone binary:
// the containerd shim runs it as "logdriver strom-log-driver <file>" (see
// runtime.Config.LogDriver) and it appends the container's stdout and
// stderr to the file. The agent binary can play the same role by calling
// runtime.RunLogDriver when runtime.IsLogDriverInvocation(os.Args).
package main

import (
	"fmt"
	"os"

	"github.com/strom-project/strom/agent/runtime"
)

func main() {
	if !runtime.IsLogDriverInvocation(os.Args) {
		fmt.Fprintf(os.Stderr, "usage: %s %s <log file>\n", os.Args[0], runtime.LogDriverArg)
		os.Exit(2)
	}
	runtime.RunLogDriver(os.Args[2])
}
