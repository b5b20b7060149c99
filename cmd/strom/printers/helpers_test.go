package printers

import (
	corev1 "k8s.io/api/core/v1"
)

// notStored is an object type the registry does not know.
type notStored struct{ corev1.Pod }
