package printers

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strom-project/strom/events/objects"
)

// TableOptions controls `get` table output.
type TableOptions struct {
	Wide          bool // -o wide: the extra columns
	ShowNamespace bool // -A: a NAMESPACE column first (see PrintTable)
	NoHeaders     bool // --no-headers
	// Now is the time ages are computed against. Required: with a zero Now
	// every age reads "<invalid>".
	Now      time.Time
	ShowKind bool // names as "deployment.apps/web", as `get all` does
}

// column is one table column. Wide columns show only with -o wide.
type column struct {
	Header string
	Wide   bool
	Name   bool // the column that holds the object's name
}

// printer knows one kind's columns and how to fill a row.
type printer struct {
	columns []column
	// row returns one cell per column, wide ones included.
	row func(o objects.Object, now time.Time) []string
}

// typed adapts a row function on a concrete type to a printer.
func typed[T objects.Object](cols []column, row func(T, time.Time) []string) printer {
	return printer{columns: cols, row: func(o objects.Object, now time.Time) []string {
		return row(o.(T), now)
	}}
}

// cols builds columns from headers; a "*" prefix marks a wide column, and
// "NAME" is the name column.
func cols(headers ...string) []column {
	out := make([]column, 0, len(headers))
	for _, h := range headers {
		c := column{Header: strings.TrimPrefix(h, "*"), Wide: strings.HasPrefix(h, "*")}
		c.Name = c.Header == "NAME"
		out = append(out, c)
	}
	return out
}

// NoResources is the message kubectl prints when a list is empty.
func NoResources(ns string, allNamespaces bool) string {
	if allNamespaces || ns == "" {
		return "No resources found"
	}
	return fmt.Sprintf("No resources found in %s namespace.", ns)
}

// newTabWriter aligns columns as kubectl's get does.
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// PrintTable writes objs as kubectl get tables. Objects of several kinds
// print as one table per kind, in the order each kind first appears,
// separated by a blank line, as `kubectl get all` does. Events are sorted
// by when they were last seen. Nothing is written for no objects: the
// caller prints NoResources instead.
func PrintTable(w io.Writer, objs []objects.Object, opts TableOptions) error {
	groups, err := groupByKind(objs)
	if err != nil {
		return err
	}
	// Like kubectl, -A gives cluster-scoped kinds no NAMESPACE column,
	// unless a namespaced kind was printed before them: kubectl keeps the
	// column (empty) from then on.
	withNS := false
	for i, g := range groups {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return fmt.Errorf("printing table: %w", err)
			}
		}
		withNS = opts.ShowNamespace && (withNS || g.kind.Namespaced)
		if err := printGroup(w, g, opts, withNS); err != nil {
			return fmt.Errorf("printing %s table: %w", g.kind.Resource, err)
		}
	}
	return nil
}

type kindGroup struct {
	kind *objects.Kind
	objs []objects.Object
}

func groupByKind(objs []objects.Object) ([]*kindGroup, error) {
	var groups []*kindGroup
	byKind := map[*objects.Kind]*kindGroup{}
	for _, o := range objs {
		k, err := objects.KindOf(o)
		if err != nil {
			return nil, err
		}
		g := byKind[k]
		if g == nil {
			g = &kindGroup{kind: k}
			byKind[k] = g
			groups = append(groups, g)
		}
		g.objs = append(g.objs, o)
	}
	return groups, nil
}

func printGroup(w io.Writer, g *kindGroup, opts TableOptions, withNS bool) error {
	p, ok := printers[g.kind.Kind]
	if !ok {
		return fmt.Errorf("no table printer for kind %s", g.kind.Kind)
	}
	objs := g.objs
	if g.kind.Kind == "Event" {
		objs = sortEventObjects(objs)
	}
	tw := newTabWriter(w)
	if !opts.NoHeaders {
		var hs []string
		if withNS {
			hs = append(hs, "NAMESPACE")
		}
		for _, c := range p.columns {
			if !c.Wide || opts.Wide {
				hs = append(hs, c.Header)
			}
		}
		if _, err := fmt.Fprintln(tw, strings.Join(hs, "\t")); err != nil {
			return err
		}
	}
	for _, o := range objs {
		cells := p.row(o, opts.Now)
		var out []string
		if withNS {
			out = append(out, o.GetNamespace())
		}
		for i, c := range p.columns {
			if c.Wide && !opts.Wide {
				continue
			}
			cell := cleanCell(cells[i])
			if c.Name && opts.ShowKind {
				cell = g.kind.QualifiedName() + "/" + cell
			}
			out = append(out, cell)
		}
		if _, err := fmt.Fprintln(tw, strings.Join(out, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// cleanCell keeps a cell on one line and in one column: tabs and line
// breaks inside a value would break the table's alignment.
func cleanCell(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// Column is one column of a kind's table as a Kubernetes API Table
// describes it: wide columns are the ones kubectl shows with -o wide
// (priority 1).
type Column struct {
	Header string
	Wide   bool
	Name   bool
}

// Columns returns a kind's table columns, wide ones included, in order:
// the one printer behind both `strom get` and the HTTPS API's Tables.
func Columns(kind string) ([]Column, bool) {
	p, ok := printers[kind]
	if !ok {
		return nil, false
	}
	out := make([]Column, len(p.columns))
	for i, c := range p.columns {
		out[i] = Column{Header: c.Header, Wide: c.Wide, Name: c.Name}
	}
	return out, true
}

// Row returns one cell per column of Columns for obj, ages computed
// against now.
func Row(obj objects.Object, now time.Time) ([]string, error) {
	k, err := objects.KindOf(obj)
	if err != nil {
		return nil, err
	}
	p, ok := printers[k.Kind]
	if !ok {
		return nil, fmt.Errorf("no table printer for kind %s", k.Kind)
	}
	cells := p.row(obj, now)
	for i := range cells {
		cells[i] = cleanCell(cells[i])
	}
	return cells, nil
}
