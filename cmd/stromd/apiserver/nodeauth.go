package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// The node authorizer: what a node's credential may do, after Kubernetes'
// Node authorizer and NodeRestriction admission, narrowed to what a Strom
// agent does. A node may
//
//   - read Nodes, Services, Endpoints and EndpointSlices (its proxy and
//     DNS serve the whole cluster);
//   - read only the pods bound to it (a list must select
//     spec.nodeName=<itself>), and only the Secrets, ConfigMaps and
//     PersistentVolumeClaims those pods refer to;
//   - write only its own Node, the status of its own pods, the static pods
//     it runs from its manifest directory (bound to itself), and Events;
//     delete only its own pods (to finish their graceful deletion);
//   - write the status of Services (the agent reports load-balancer
//     addresses).
//
// Everything else — other workloads, other nodes' pods, namespaces, the
// log itself (history, trace, log, diff) — is Forbidden.

// nodeRead lists the kinds a node may read without a relation to its pods.
var nodeRead = map[string]bool{"nodes": true, "services": true, "endpoints": true, "endpointslices": true, "events": true}

// nodeReferenced lists the kinds a node may read only when a pod bound to
// it refers to the object.
var nodeReferenced = map[string]bool{"secrets": true, "configmaps": true, "persistentvolumeclaims": true}

// authorizeNode decides one request of node who.Node.
func (c *Core) authorizeNode(ctx context.Context, verbName string, who Caller, req *api.Request) error {
	switch verbName {
	case api.VerbGet, api.VerbList:
		return c.authorizeNodeRead(ctx, verbName, who, req)
	case api.VerbApply, api.VerbCreate, api.VerbUpdate, api.VerbStatus:
		return c.authorizeNodeWrite(ctx, verbName, who, req)
	case api.VerbDelete:
		k, ns, err := objectScope(req)
		if err != nil {
			return err
		}
		if k.Resource != "pods" {
			return nodeForbidden(k, req.Name, ns, who, verbName, "a node may delete only its own pods")
		}
		return c.requireOwnPod(ctx, k, ns, req.Name, who, verbName, req)
	}
	return events.Errorf(events.ReasonForbidden, "User %q cannot use %q: a node's credential serves only its node", who.User, verbName)
}

func (c *Core) authorizeNodeRead(ctx context.Context, verbName string, who Caller, req *api.Request) error {
	k, ns, err := objectScope(req)
	if err != nil {
		return err
	}
	if req.At != "" {
		return nodeForbidden(k, req.Name, ns, who, verbName, "a node may not read history")
	}
	switch {
	case nodeRead[k.Resource]:
		return nil
	case k.Resource == "pods" && verbName == api.VerbList:
		if req.FieldSelector != "spec.nodeName="+who.Node {
			return nodeForbidden(k, "", ns, who, verbName, fmt.Sprintf("a node may list only its own pods (--field-selector spec.nodeName=%s)", who.Node))
		}
		return nil
	case k.Resource == "pods":
		return c.requireOwnPod(ctx, k, ns, req.Name, who, verbName, req)
	case nodeReferenced[k.Resource] && verbName == api.VerbGet:
		pods, err := c.nodePods(ctx, who.Node, ns, req)
		if err != nil {
			return err
		}
		for _, p := range pods {
			if refersTo(p, k.Resource, req.Name) {
				return nil
			}
		}
		return nodeForbidden(k, req.Name, ns, who, verbName, fmt.Sprintf("no relationship found between node %q and this object", who.Node))
	}
	return nodeForbidden(k, req.Name, ns, who, verbName, "a node's credential serves only its node")
}

func (c *Core) authorizeNodeWrite(ctx context.Context, verbName string, who Caller, req *api.Request) error {
	obj, k, err := objects.DecodeJSON(req.Object)
	if err != nil {
		return events.Errorf(events.ReasonInvalid, "%v", err)
	}
	ns := ""
	if k.Namespaced {
		if ns = obj.GetNamespace(); ns == "" {
			if ns = req.Namespace; ns == "" {
				ns = "default"
			}
		}
	}
	name := obj.GetName()
	switch k.Resource {
	case "nodes":
		if name != who.Node {
			return nodeForbidden(k, name, "", who, verbName, "a node may modify only its own Node object")
		}
		return nil
	case "events":
		return nil
	case "services":
		if verbName != api.VerbStatus {
			return nodeForbidden(k, name, ns, who, verbName, "a node may write only the status of services")
		}
		return nil
	case "pods":
		pod, _ := obj.(*corev1.Pod)
		if pod == nil || pod.Spec.NodeName != who.Node {
			return nodeForbidden(k, name, ns, who, verbName, "a node may write only pods bound to itself")
		}
		if verbName == api.VerbStatus {
			return c.requireOwnPod(ctx, k, ns, name, who, verbName, req)
		}
		// A new pod may only be a static pod of its own; an existing one
		// is changed through its status only.
		if pod.Annotations[api.StaticPodAnnotation] == "" {
			return nodeForbidden(k, name, ns, who, verbName, "a node may create only static pods bound to itself")
		}
		st, err := c.view(ctx, req)
		if err != nil {
			return err
		}
		if e, ok := st.Get("pods", ns, name); ok {
			var stored corev1.Pod
			if err := json.Unmarshal(e.JSON(), &stored); err != nil {
				return fmt.Errorf("decoding pod %s/%s: %w", ns, name, err)
			}
			if stored.Spec.NodeName != who.Node || stored.Annotations[api.StaticPodAnnotation] == "" {
				return nodeForbidden(k, name, ns, who, verbName, "a node may write only its own static pods")
			}
		}
		return nil
	}
	return nodeForbidden(k, name, ns, who, verbName, "a node's credential serves only its node")
}

// requireOwnPod allows a request about pod ns/name only when it is bound
// to who's node. A pod that does not exist is NotFound only to a node
// that could have seen it, so a node learns nothing of others' pods.
func (c *Core) requireOwnPod(ctx context.Context, k *objects.Kind, ns, name string, who Caller, verbName string, req *api.Request) error {
	st, err := c.view(ctx, req)
	if err != nil {
		return err
	}
	e, ok := st.Get("pods", ns, name)
	if !ok {
		return nodeForbidden(k, name, ns, who, verbName, "a node may access only pods bound to itself")
	}
	var p corev1.Pod
	if err := json.Unmarshal(e.JSON(), &p); err != nil {
		return fmt.Errorf("decoding pod %s/%s: %w", ns, name, err)
	}
	if p.Spec.NodeName != who.Node {
		return nodeForbidden(k, name, ns, who, verbName, "a node may access only pods bound to itself")
	}
	return nil
}

// nodePods are the pods of namespace ns bound to node.
func (c *Core) nodePods(ctx context.Context, node, ns string, req *api.Request) ([]*corev1.Pod, error) {
	st, err := c.view(ctx, req)
	if err != nil {
		return nil, err
	}
	fields, err := projections.ParseFieldSelector("pods", "spec.nodeName="+node)
	if err != nil {
		return nil, err
	}
	entries, _ := st.List(projections.Query{Resource: "pods", Namespace: ns, Fields: fields})
	pods := make([]*corev1.Pod, 0, len(entries))
	for _, e := range entries {
		var p corev1.Pod
		if err := json.Unmarshal(e.JSON(), &p); err != nil {
			return nil, fmt.Errorf("decoding pod %s/%s: %w", e.Namespace, e.Name, err)
		}
		pods = append(pods, &p)
	}
	return pods, nil
}

// refersTo reports whether pod p needs the object resource/name of its
// namespace to run: a volume, an env or envFrom source, an image pull
// secret.
func refersTo(p *corev1.Pod, resource, name string) bool {
	for _, n := range podReferences(p)[resource] {
		if n == name {
			return true
		}
	}
	return false
}

// podReferences are the Secrets, ConfigMaps and claims a pod refers to,
// by resource.
func podReferences(p *corev1.Pod) map[string][]string {
	refs := map[string][]string{}
	add := func(resource, name string) {
		if name != "" {
			refs[resource] = append(refs[resource], name)
		}
	}
	for _, s := range p.Spec.ImagePullSecrets {
		add("secrets", s.Name)
	}
	for _, v := range p.Spec.Volumes {
		switch {
		case v.Secret != nil:
			add("secrets", v.Secret.SecretName)
		case v.ConfigMap != nil:
			add("configmaps", v.ConfigMap.Name)
		case v.PersistentVolumeClaim != nil:
			add("persistentvolumeclaims", v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			add("persistentvolumeclaims", p.Name+"-"+v.Name)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					add("secrets", src.Secret.Name)
				}
				if src.ConfigMap != nil {
					add("configmaps", src.ConfigMap.Name)
				}
			}
		}
	}
	containers := func(cs []corev1.Container) {
		for _, c := range cs {
			for _, e := range c.EnvFrom {
				if e.SecretRef != nil {
					add("secrets", e.SecretRef.Name)
				}
				if e.ConfigMapRef != nil {
					add("configmaps", e.ConfigMapRef.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if e.ValueFrom.SecretKeyRef != nil {
					add("secrets", e.ValueFrom.SecretKeyRef.Name)
				}
				if e.ValueFrom.ConfigMapKeyRef != nil {
					add("configmaps", e.ValueFrom.ConfigMapKeyRef.Name)
				}
			}
		}
	}
	containers(p.Spec.InitContainers)
	containers(p.Spec.Containers)
	for _, ec := range p.Spec.EphemeralContainers {
		containers([]corev1.Container{corev1.Container(ec.EphemeralContainerCommon)})
	}
	return refs
}

// nodeForbidden is kube-apiserver's authorization refusal:
// `pods "x" is forbidden: User "system:node:n1" cannot get resource "pods"
// in API group "" in the namespace "default": <why>`.
func nodeForbidden(k *objects.Kind, name, ns string, who Caller, verbName, why string) error {
	where := ""
	if ns != "" {
		where = fmt.Sprintf(" in the namespace %q", ns)
	}
	return events.NewForbidden(k, name, fmt.Errorf("User %q cannot %s resource %q in API group %q%s: %s",
		who.User, kubeVerb(verbName), k.Resource, k.Group, where, why))
}

// kubeVerb names a Strom verb as Kubernetes' authorization does.
func kubeVerb(v string) string {
	switch v {
	case api.VerbApply:
		return "patch"
	case api.VerbStatus:
		return "update"
	}
	return v
}

// join answers a joining node with its own credential.
func (c *Core) join(_ context.Context, who Caller, req *api.Request) (*api.Response, error) {
	if c.cfg.NodeCredential == nil {
		return nil, events.Errorf(events.ReasonForbidden, "this stromd issues no node credentials (its NATS server is external: give the node a NATS user of its own)")
	}
	node := req.Params["node"]
	if errs := validation.IsDNS1123Subdomain(node); len(errs) > 0 {
		return nil, events.Errorf(events.ReasonInvalid, "node name %q: %s", node, strings.Join(errs, "; "))
	}
	pw, err := c.cfg.NodeCredential(node)
	if err != nil {
		return nil, fmt.Errorf("issuing the credential of node %s: %w", node, err)
	}
	c.log.Info("node joined", zap.String("node", node), zap.String("by", who.User))
	return dataResponse(&api.JoinResult{User: api.NodeUser(node), Password: pw})
}
