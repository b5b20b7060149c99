package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// readManifests reads -f arguments: files, directories (their .yaml,
// .yml and .json files, recursively with -R) and "-" for stdin. Every
// document is decoded before anything is sent, so a malformed file
// changes nothing.
func (c *cli) readManifests(paths []string, recursive bool) ([]objects.Manifest, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("must specify -f (a file, a directory, or - for standard input)")
	}
	var out []objects.Manifest
	for _, p := range paths {
		if p == "-" {
			ms, err := objects.DecodeManifests(c.in, "<stdin>")
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
			continue
		}
		files, err := manifestFiles(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
			ms, err := objects.DecodeManifests(fh, f)
			fh.Close()
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no objects passed to apply")
	}
	return out, nil
}

func manifestFiles(p string, recursive bool) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("the path %q does not exist", p)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func (c *cli) applyCommand() *cobra.Command {
	var files []string
	var recursive, dryRun bool
	var output string
	cmd := &cobra.Command{
		Use:   "apply -f FILENAME",
		Short: "Create or update objects from manifests (multi-document YAML or JSON)",
		Example: `  strom apply -f web.yaml
  strom apply -f manifests/ -R
  cat web.yaml | strom apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ms, err := c.readManifests(files, recursive)
			if err != nil {
				return err
			}
			cl, err := c.connect()
			if err != nil {
				return err
			}
			// First every object as a dry run, so an invalid one in the
			// middle of a file leaves the cluster untouched.
			if err := c.send(cl, api.VerbApply, ms, true, io.Discard); err != nil {
				return err
			}
			if dryRun {
				return c.send(cl, api.VerbApply, ms, true, c.out)
			}
			return c.send(cl, api.VerbApply, ms, false, c.out)
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "manifest file, directory or - for stdin")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "process directories recursively")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and show what would change, change nothing")
	cmd.Flags().StringVarP(&output, "output", "o", "", "unused; accepted for kubectl compatibility")
	return cmd
}

// send writes each manifest with verb and prints kubectl's result lines.
// On a dry run, a namespace that an earlier document of the batch creates
// counts as existing.
func (c *cli) send(cl *api.Client, verb string, ms []objects.Manifest, dryRun bool, out io.Writer) error {
	creating := map[string]bool{}
	for _, m := range ms {
		data, err := json.Marshal(m.Object)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Source, err)
		}
		ns := ""
		if m.Kind.Namespaced && m.Object.GetNamespace() == "" {
			ns = c.ns()
		} else if m.Kind.Namespaced {
			ns = c.namespace
		}
		ctx, cancel := c.ctx()
		resp, err := cl.Do(ctx, verb, &api.Request{Object: data, Namespace: ns, DryRun: dryRun})
		cancel()
		if m.Kind.Kind == "Namespace" {
			creating[m.Object.GetName()] = true
		}
		if err != nil && dryRun && events.IsNotFound(err) && strings.HasPrefix(err.Error(), "namespaces ") {
			target := m.Object.GetNamespace()
			if target == "" {
				target = c.ns()
			}
			if creating[target] {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %s/%s: %w", m.Source, m.Kind.QualifiedName(), m.Object.GetName(), err)
		}
		if out != io.Discard {
			c.warn(resp.Warnings)
		}
		suffix := ""
		if dryRun {
			suffix = " (dry run)"
		}
		fmt.Fprintf(out, "%s/%s %s%s\n", m.Kind.QualifiedName(), m.Object.GetName(), resp.Outcome, suffix)
	}
	return nil
}
