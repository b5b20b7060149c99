package history

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/strom-project/strom/projections"
)

// Owned lists the revisions in namespace ns whose owner references name
// the uid, from the Store.
func Owned(st *projections.Store, ns string, uid types.UID) ([]*appsv1.ControllerRevision, error) {
	items, _ := st.List(projections.Query{Resource: "controllerrevisions", Namespace: ns,
		Fields: fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(uid))})
	out := make([]*appsv1.ControllerRevision, 0, len(items))
	for _, e := range items {
		obj, err := e.Object()
		if err != nil {
			return nil, err
		}
		if r, ok := obj.(*appsv1.ControllerRevision); ok {
			out = append(out, r)
		}
	}
	return out, nil
}
