// Command kubectl is the upstream kubectl (k8s.io/kubectl), built from the
// Go module proxy so that Strom's end-to-end tests drive a real client.
// scripts/build-test-tools.sh builds it into test/tools/bin/kubectl.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	root := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(root); err != nil {
		// CheckErr prints the error the way kubectl does and exits non-zero.
		util.CheckErr(err)
		os.Exit(1)
	}
}
