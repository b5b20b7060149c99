package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// cli holds what every command shares.
type cli struct {
	in       io.Reader
	out, err io.Writer

	configPath string
	namespace  string
	timeout    time.Duration

	client *api.Client
	now    func() time.Time
}

// run executes the CLI and returns its exit code: 0, or 1 after printing
// one line that says what went wrong.
func run(args []string, in io.Reader, out, errOut io.Writer) int {
	c := &cli{in: in, out: out, err: errOut, now: time.Now}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.Execute()
	if c.client != nil {
		c.client.Close()
	}
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code // the remote command's own exit code, as kubectl does
	}
	if err != nil {
		fmt.Fprintln(errOut, formatError(err))
		return 1
	}
	return 0
}

// formatError renders an error as kubectl does: server errors with their
// reason, everything else as "error: ...".
func formatError(err error) string {
	var e *events.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("Error from server (%s): %s", e.Status().Reason, err.Error())
	}
	return "error: " + err.Error()
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "strom",
		Short:         "strom controls a Strom cluster",
		Long:          "strom controls a Strom cluster: kubectl's verbs on an event-sourced control plane,\nplus history, --at and stream inspection to see how the cluster came to be.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.configPath, "config", "", "client config (default $STROM_CONFIG, ~/.strom/config or /var/lib/strom/admin.conf)")
	pf.StringVarP(&c.namespace, "namespace", "n", "", "namespace (default \"default\")")
	pf.DurationVar(&c.timeout, "request-timeout", 30*time.Second, "how long to wait for the server")
	root.AddCommand(
		c.applyCommand(), c.getCommand(), c.describeCommand(), c.deleteCommand(),
		c.historyCommand(), c.streamCommand(), c.clusterInfoCommand(), c.versionCommand(),
		c.apiResourcesCommand(), c.logsCommand(), c.execCommand(), c.imageCommand(),
		c.logCommand(), c.diffCommand(), c.traceCommand(), c.replayCommand(),
		c.rolloutCommand(), c.scaleCommand(), c.cordonCommand(), c.uncordonCommand(), c.drainCommand(),
		c.kubeconfigCommand(), c.waitCommand(), c.createCommand(),
	)
	return root
}

// connect dials stromd with the client config, once.
func (c *cli) connect() (*api.Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	cfg, err := api.LoadConfig(api.ConfigPath(c.configPath))
	if err != nil {
		return nil, err
	}
	cl, err := api.Dial(cfg)
	if err != nil {
		return nil, err
	}
	cl.Timeout = c.timeout
	c.client = cl
	return cl, nil
}

func (c *cli) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// ns is the namespace flag's value, or "default".
func (c *cli) ns() string {
	if c.namespace == "" {
		return "default"
	}
	return c.namespace
}

func (c *cli) warn(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(c.err, "Warning:", w)
	}
}

// call connects (once) and sends one verb within the request timeout.
func (c *cli) call(verb string, req *api.Request) (*api.Response, error) {
	cl, err := c.connect()
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	return cl.Do(ctx, verb, req)
}

// callData sends a verb whose answer travels in Response.Data and decodes
// it into into.
func (c *cli) callData(verb string, req *api.Request, into any) error {
	resp, err := c.call(verb, req)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.Data, into); err != nil {
		return fmt.Errorf("%s: malformed response: %w", verb, err)
	}
	return nil
}

// printJSON writes v as -o json does: indented, one document.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
