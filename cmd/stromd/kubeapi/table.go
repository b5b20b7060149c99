package kubeapi

import (
	"context"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/strom-project/strom/cmd/strom/printers"
	"github.com/strom-project/strom/events/objects"
)

// tableConvertor answers `Accept: application/json;as=Table` with the
// columns `strom get` prints (one printer for both), so kubectl's get
// looks as it does against Kubernetes; wide columns have priority 1
// (kubectl shows them with -o wide).
type tableConvertor struct {
	k *objects.Kind
}

func (t tableConvertor) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	cols, ok := printers.Columns(t.k.Kind)
	if !ok {
		return nil, apierrors.NewInternalError(errNoPrinter(t.k.Kind))
	}
	table := &metav1.Table{}
	for _, c := range cols {
		d := metav1.TableColumnDefinition{Name: columnName(c.Header), Type: "string"}
		if c.Name {
			d.Format = "name"
		}
		if c.Wide {
			d.Priority = 1
		}
		table.ColumnDefinitions = append(table.ColumnDefinitions, d)
	}
	at := time.Now()
	add := func(o runtime.Object) error {
		so, ok := o.(objects.Object)
		if !ok {
			return errNoPrinter(t.k.Kind)
		}
		cells, err := printers.Row(so, at)
		if err != nil {
			return err
		}
		row := metav1.TableRow{Cells: make([]any, len(cells)), Object: runtime.RawExtension{Object: o}}
		for i, c := range cells {
			row.Cells[i] = c
		}
		table.Rows = append(table.Rows, row)
		return nil
	}
	if meta.IsListType(obj) {
		if err := meta.EachListItem(obj, add); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		if lm, err := meta.ListAccessor(obj); err == nil {
			table.ResourceVersion, table.Continue, table.RemainingItemCount = lm.GetResourceVersion(), lm.GetContinue(), lm.GetRemainingItemCount()
		}
	} else {
		if err := add(obj); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		if m, err := meta.Accessor(obj); err == nil {
			table.ResourceVersion = m.GetResourceVersion()
		}
	}
	return table, nil
}

type errNoPrinter string

func (e errNoPrinter) Error() string { return "no table printer for kind " + string(e) }

// columnName writes a header as kube-apiserver names its columns ("Name",
// "Nominated Node"); kubectl prints them upper-cased.
func columnName(header string) string {
	words := strings.Fields(strings.ToLower(header))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
