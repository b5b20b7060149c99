// Command helm is the upstream Helm v4 client (helm.sh/helm/v4), built from
// the Go module proxy so that Strom's end-to-end tests drive a real helm.
// scripts/build-test-tools.sh builds it into test/tools/bin/helm.
package main

import (
	"errors"
	"fmt"
	"os"

	helmcmd "helm.sh/helm/v4/pkg/cmd"
	"helm.sh/helm/v4/pkg/kube"

	// Register client-go's credential plugins (exec, oidc), as upstream helm does.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	// Keep the field manager "helm" whatever this binary is called.
	kube.ManagedFieldsManager = "helm"

	root, err := helmcmd.NewRootCmd(os.Stdout, os.Args[1:], helmcmd.SetupLogging)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	if err := root.Execute(); err != nil {
		var ce helmcmd.CommandError
		if errors.As(err, &ce) {
			os.Exit(ce.ExitCode)
		}
		os.Exit(1)
	}
}
