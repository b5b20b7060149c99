package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events/api"
)

// podAndContainer finds a pod's node and the container to talk to.
func (c *cli) podAndContainer(name, container string) (*corev1.Pod, string, error) {
	cl, err := c.connect()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	if strings.Contains(name, "/") {
		if name, err = c.podOf(ctx, cl, name); err != nil {
			return nil, "", err
		}
	}
	resp, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: "pods", Namespace: c.ns(), Name: name})
	if err != nil {
		return nil, "", err
	}
	var pod corev1.Pod
	if err := json.Unmarshal(resp.Object, &pod); err != nil {
		return nil, "", err
	}
	if pod.Spec.NodeName == "" {
		return nil, "", fmt.Errorf("pod %s is not scheduled to a node yet", name)
	}
	var names []string
	for _, ct := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		names = append(names, ct.Name)
	}
	if container == "" {
		container = pod.Annotations["kubectl.kubernetes.io/default-container"]
	}
	if container == "" {
		container = pod.Spec.Containers[0].Name
		if len(pod.Spec.Containers) > 1 {
			fmt.Fprintf(c.err, "Defaulted container %q out of: %s\n", container, strings.Join(names, ", "))
		}
	}
	for _, n := range names {
		if n == container {
			return &pod, container, nil
		}
	}
	return nil, "", fmt.Errorf("container %s is not valid for pod %s; choose one of: [%s]", container, name, strings.Join(names, " "))
}

// interruptible returns a context cancelled by Ctrl-C.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func (c *cli) logsCommand() *cobra.Command {
	var container string
	var follow, previous bool
	var tail int
	cmd := &cobra.Command{
		Use:   "logs POD|TYPE/NAME [-c CONTAINER]",
		Short: "Print a container's logs (kept on the node, across agent restarts)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pod, ctr, err := c.podAndContainer(args[0], container)
			if err != nil {
				return err
			}
			ctx, cancel := interruptible()
			defer cancel()
			req := &api.LogsRequest{Namespace: pod.Namespace, Pod: pod.Name, Container: ctr, Previous: previous, Follow: follow, Tail: tail}
			_, err = api.Receive(ctx, c.client.Conn(), api.LogsSubject(pod.Spec.NodeName), req,
				func(inbox string) { req.Inbox = inbox }, c.out, c.err, nil)
			if err != nil && ctx.Err() != nil {
				return nil // Ctrl-C ends -f
			}
			if err == api.ErrNoAgent {
				return fmt.Errorf("node %s: %w", pod.Spec.NodeName, err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&container, "container", "c", "", "container name (default: the only or the default one)")
	f.BoolVarP(&follow, "follow", "f", false, "keep streaming new output")
	f.BoolVarP(&previous, "previous", "p", false, "the previous instance of the container, after a restart")
	f.IntVar(&tail, "tail", 0, "only the last N lines")
	return cmd
}

// exitError carries a remote command's exit code to strom's own.
type exitError struct{ code int }

func (e *exitError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.code)
}

func (c *cli) execCommand() *cobra.Command {
	var container string
	var stdin, tty bool
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
		Short: "Run a command in a container",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return fmt.Errorf("give the command after --: strom exec POD -- COMMAND")
			}
			pod, ctr, err := c.podAndContainer(args[0], container)
			if err != nil {
				return err
			}
			ctx, cancel := interruptible()
			defer cancel()
			nc := c.client.Conn()
			req := &api.ExecRequest{Namespace: pod.Namespace, Pod: pod.Name, Container: ctr, Command: args[1:], Stdin: stdin, TTY: tty}
			code, err := api.Receive(ctx, nc, api.ExecSubject(pod.Spec.NodeName), req,
				func(inbox string) { req.Inbox = inbox }, c.out, c.err,
				func(stdinSubject string) { go func() { _ = api.StdinPump(nc, stdinSubject, c.in) }() })
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&container, "container", "c", "", "container name")
	f.BoolVarP(&stdin, "stdin", "i", false, "pass standard input to the command")
	f.BoolVarP(&tty, "tty", "t", false, "allocate a terminal")
	return cmd
}
