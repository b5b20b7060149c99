package kubeapi

import (
	"fmt"
	"reflect"
	"sort"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/strom-project/strom/events/objects"
)

// install registers every stored kind, with its status subresource where
// it has a status, under its group and version: the core group at /api,
// the others under /apis.
func install(gs *genericapiserver.GenericAPIServer, scheme *runtime.Scheme, codecs serializer.CodecFactory, cfg Config) error {
	params := runtime.NewParameterCodec(scheme)
	infos := map[string]*genericapiserver.APIGroupInfo{}
	for _, k := range objects.All() {
		info := infos[k.Group]
		if info == nil {
			gi := genericapiserver.NewDefaultAPIGroupInfo(k.Group, scheme, params, codecs)
			gi.PrioritizedVersions = nil // only the versions served, not every one the scheme knows
			info = &gi
			infos[k.Group] = info
		}
		gv := schema.GroupVersion{Group: k.Group, Version: k.Version}
		if !hasVersion(info.PrioritizedVersions, gv) {
			info.PrioritizedVersions = append(info.PrioritizedVersions, gv)
		}
		m := info.VersionedResourcesStorageMap[k.Version]
		if m == nil {
			m = map[string]rest.Storage{}
			info.VersionedResourcesStorageMap[k.Version] = m
		}
		r := newResource(k, cfg.Core, scheme)
		m[k.Resource] = r
		if hasStatus(k) {
			m[k.Resource+"/status"] = &statusResource{r: r}
		}
		if scalable[k.Kind] {
			m[k.Resource+"/scale"] = &scaleResource{r: r}
		}
		if k.Kind == "Pod" {
			m["pods/eviction"] = &evictionResource{pods: r}
			m["pods/binding"] = &bindingResource{pods: r}
			installPodSubresources(m, r, cfg)
		}
	}
	if legacy := infos[""]; legacy != nil {
		if err := gs.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, legacy); err != nil {
			return fmt.Errorf("installing the core API group: %w", err)
		}
	}
	groups := make([]string, 0, len(infos))
	for g := range infos {
		if g != "" {
			groups = append(groups, g)
		}
	}
	sort.Strings(groups)
	for _, g := range groups {
		if err := gs.InstallAPIGroup(infos[g]); err != nil {
			return fmt.Errorf("installing API group %s: %w", g, err)
		}
	}
	return nil
}

func hasVersion(gvs []schema.GroupVersion, gv schema.GroupVersion) bool {
	for _, v := range gvs {
		if v == gv {
			return true
		}
	}
	return false
}

// hasStatus reports whether a kind has a status (and so a status
// subresource, as in Kubernetes).
func hasStatus(k *objects.Kind) bool {
	t := reflect.TypeOf(k.New()).Elem()
	f, ok := t.FieldByName("Status")
	return ok && f.Type.Kind() == reflect.Struct
}

// installPodSubresources is in podlog.go.
