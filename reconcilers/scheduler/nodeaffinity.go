package scheduler

import (
	"fmt"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// nodeTerm is a compiled NodeSelectorTerm: all requirements must hold.
type nodeTerm struct {
	labels []labelReq
	fields []labelReq // key is always metadata.name
}

type labelReq struct {
	key    string
	op     corev1.NodeSelectorOperator
	values []string
	num    int64 // for Gt and Lt
}

// compileNodeTerm checks and compiles a NodeSelectorTerm.
func compileNodeTerm(t *corev1.NodeSelectorTerm) (nodeTerm, error) {
	var out nodeTerm
	for _, e := range t.MatchExpressions {
		r, err := compileReq(e)
		if err != nil {
			return nodeTerm{}, err
		}
		out.labels = append(out.labels, r)
	}
	for _, e := range t.MatchFields {
		if e.Key != "metadata.name" {
			return nodeTerm{}, fmt.Errorf("unsupported node field %q (only metadata.name)", e.Key)
		}
		if e.Operator != corev1.NodeSelectorOpIn && e.Operator != corev1.NodeSelectorOpNotIn {
			return nodeTerm{}, fmt.Errorf("node field %q: operator %q not supported (In, NotIn)", e.Key, e.Operator)
		}
		r, err := compileReq(e)
		if err != nil {
			return nodeTerm{}, err
		}
		out.fields = append(out.fields, r)
	}
	return out, nil
}

func compileReq(e corev1.NodeSelectorRequirement) (labelReq, error) {
	r := labelReq{key: e.Key, op: e.Operator, values: e.Values}
	switch e.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(e.Values) == 0 {
			return r, fmt.Errorf("requirement %s %s: values must not be empty", e.Key, e.Operator)
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(e.Values) != 0 {
			return r, fmt.Errorf("requirement %s %s: values must be empty", e.Key, e.Operator)
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(e.Values) != 1 {
			return r, fmt.Errorf("requirement %s %s: exactly one value needed", e.Key, e.Operator)
		}
		n, err := strconv.ParseInt(e.Values[0], 10, 64)
		if err != nil {
			return r, fmt.Errorf("requirement %s %s: %w", e.Key, e.Operator, err)
		}
		r.num = n
	default:
		return r, fmt.Errorf("requirement %s: unknown operator %q", e.Key, e.Operator)
	}
	return r, nil
}

// matches reports whether a value (present or not) satisfies r.
func (r *labelReq) matches(value string, present bool) bool {
	switch r.op {
	case corev1.NodeSelectorOpIn:
		return present && slices.Contains(r.values, value)
	case corev1.NodeSelectorOpNotIn:
		return !present || !slices.Contains(r.values, value)
	case corev1.NodeSelectorOpExists:
		return present
	case corev1.NodeSelectorOpDoesNotExist:
		return !present
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !present {
			return false
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return false
		}
		if r.op == corev1.NodeSelectorOpGt {
			return n > r.num
		}
		return n < r.num
	}
	return false
}

// matches reports whether the node satisfies every requirement of t. A term
// with no requirements matches nothing, as in Kubernetes.
func (t *nodeTerm) matches(name string, labels map[string]string) bool {
	if len(t.labels) == 0 && len(t.fields) == 0 {
		return false
	}
	for i := range t.labels {
		v, ok := labels[t.labels[i].key]
		if !t.labels[i].matches(v, ok) {
			return false
		}
	}
	for i := range t.fields {
		if !t.fields[i].matches(name, true) {
			return false
		}
	}
	return true
}

// preferredTerm is a weighted preferred scheduling term.
type preferredTerm struct {
	weight int64
	term   nodeTerm
}
