// Command build writes Strom's test image archives (see package
// github.com/strom-project/strom/test/images) into a directory, by default
// test/images/out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/strom-project/strom/test/images"
)

func main() {
	out := flag.String("out", "test/images/out", "directory to write the image archives into")
	flag.Parse()
	archives, err := images.BuildAll(context.Background(), *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "build-test-images:", err)
		os.Exit(1)
	}
	for _, a := range archives {
		fmt.Printf("%s\t%s\n", a.Name, a.Path)
	}
}
