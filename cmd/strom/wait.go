package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/util/jsonpath"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// waitFor is a parsed --for: kubectl wait's conditions.
type waitFor struct {
	del       bool   // --for=delete
	condition string // --for=condition=TYPE[=VALUE]
	value     string // the condition's wanted status, "true" by default; jsonpath's value
	path      *jsonpath.JSONPath
	pathExpr  string
	create    bool // --for=create
}

// parseWaitFor reads --for as kubectl does: delete, create,
// condition=TYPE[=VALUE] and jsonpath='{EXPR}'[=VALUE].
func parseWaitFor(s string) (*waitFor, error) {
	switch {
	case strings.EqualFold(s, "delete"):
		return &waitFor{del: true}, nil
	case strings.EqualFold(s, "create"):
		return &waitFor{create: true}, nil
	case strings.HasPrefix(s, "condition="):
		cond, value, ok := strings.Cut(strings.TrimPrefix(s, "condition="), "=")
		if cond == "" {
			return nil, fmt.Errorf("--for=condition=TYPE[=VALUE]: no condition type in %q", s)
		}
		if !ok {
			value = "true"
		}
		return &waitFor{condition: cond, value: value}, nil
	case strings.HasPrefix(s, "jsonpath="):
		expr := strings.TrimPrefix(s, "jsonpath=")
		value := ""
		// The expression ends at its last '}': anything after is "=VALUE".
		if i := strings.LastIndex(expr, "}"); i >= 0 && i < len(expr)-1 {
			if expr[i+1] != '=' {
				return nil, fmt.Errorf("--for=jsonpath='{EXPR}'[=VALUE]: unexpected %q after the expression", expr[i+1:])
			}
			expr, value = expr[:i+1], expr[i+2:]
		}
		if !strings.HasPrefix(expr, "{") {
			expr = "{" + expr + "}"
		}
		p := jsonpath.New("wait").AllowMissingKeys(true)
		if err := p.Parse(expr); err != nil {
			return nil, fmt.Errorf("--for=jsonpath: %w", err)
		}
		return &waitFor{path: p, pathExpr: expr, value: value}, nil
	}
	return nil, fmt.Errorf("unrecognized condition: %q (use delete, create, condition=TYPE[=VALUE] or jsonpath='{EXPR}'[=VALUE])", s)
}

// met reports whether an object (decoded JSON) satisfies the condition.
func (w *waitFor) met(obj map[string]any) (bool, error) {
	switch {
	case w.create:
		return true, nil
	case w.path != nil:
		var buf bytes.Buffer
		res, err := w.path.FindResults(obj)
		if err != nil {
			return false, nil // not there yet
		}
		if len(res) == 0 || len(res[0]) == 0 {
			return false, nil
		}
		if w.value == "" {
			return true, nil // the field exists
		}
		if err := w.path.PrintResults(&buf, res[0]); err != nil {
			return false, err
		}
		return buf.String() == w.value, nil
	case w.condition != "":
		status, _ := obj["status"].(map[string]any)
		conds, _ := status["conditions"].([]any)
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if t, _ := m["type"].(string); strings.EqualFold(t, w.condition) {
				s, _ := m["status"].(string)
				if !strings.EqualFold(s, w.value) {
					return false, nil
				}
				// A condition about an older generation does not count.
				if og, ok := m["observedGeneration"].(float64); ok {
					meta, _ := obj["metadata"].(map[string]any)
					if gen, _ := meta["generation"].(float64); og < gen {
						return false, nil
					}
				}
				return true, nil
			}
		}
	}
	return false, nil
}

func (c *cli) waitCommand() *cobra.Command {
	var forFlag, selector string
	var timeout time.Duration
	var all bool
	cmd := &cobra.Command{
		Use:   "wait (TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR | TYPE --all) --for=delete|create|condition=TYPE[=VALUE]|jsonpath='{EXPR}'[=VALUE]",
		Short: "Wait until objects meet a condition, as kubectl wait",
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := parseWaitFor(forFlag)
			if err != nil {
				return err
			}
			targets, err := parseTargets(args)
			if err != nil {
				return err
			}
			cl, err := c.connect()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			for _, t := range targets {
				names := t.names
				if len(names) == 0 {
					if selector == "" && !all {
						return fmt.Errorf("resource(s) were provided, but no name was specified (use a NAME, -l SELECTOR or --all)")
					}
					if names, err = c.waitNames(ctx, cl, t.kind, selector); err != nil {
						return err
					}
					if len(names) == 0 {
						return fmt.Errorf("no matching resources found")
					}
				}
				for _, name := range names {
					if err := c.waitOne(ctx, cl, t.kind, name, w); err != nil {
						return err
					}
					fmt.Fprintf(c.out, "%s/%s condition met\n", t.kind.QualifiedName(), name)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&forFlag, "for", "", "the condition to wait for")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "wait for every object this label selector selects")
	cmd.Flags().BoolVar(&all, "all", false, "wait for every object of the type in the namespace")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	_ = cmd.MarkFlagRequired("for")
	return cmd
}

func (c *cli) waitNames(ctx context.Context, cl *api.Client, k *objects.Kind, selector string) ([]string, error) {
	req := api.Request{Resource: k.Resource, LabelSelector: selector}
	if k.Namespaced {
		req.Namespace = c.ns()
	}
	resp, err := cl.ListAll(ctx, req)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(resp.Items))
	for _, item := range resp.Items {
		var m struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		if err := json.Unmarshal(item, &m); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", k.Resource, err)
		}
		names = append(names, m.Metadata.Name)
	}
	return names, nil
}

// waitOne polls one object until w is met or ctx ends.
func (c *cli) waitOne(ctx context.Context, cl *api.Client, k *objects.Kind, name string, w *waitFor) error {
	req := &api.Request{Resource: k.Resource, Name: name}
	if k.Namespaced {
		req.Namespace = c.ns()
	}
	var firstUID string
	for {
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		resp, err := cl.Do(rctx, api.VerbGet, req)
		cancel()
		switch {
		case events.IsNotFound(err):
			if w.del {
				return nil
			}
			if !w.create && firstUID == "" {
				// kubectl waits for a missing object only with --for=create.
				return err
			}
		case err != nil && ctx.Err() == nil:
			return err
		case err == nil:
			var obj map[string]any
			if err := json.Unmarshal(resp.Object, &obj); err != nil {
				return fmt.Errorf("decoding %s %s: %w", k.Resource, name, err)
			}
			meta, _ := obj["metadata"].(map[string]any)
			uid, _ := meta["uid"].(string)
			if w.del && firstUID != "" && uid != firstUID {
				return nil // deleted and created again
			}
			firstUID = uid
			if !w.del {
				ok, err := w.met(obj)
				if err != nil {
					return err
				}
				if ok {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the condition on %s/%s", k.Resource, name)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
