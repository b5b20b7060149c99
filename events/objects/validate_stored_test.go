package objects

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
)

func TestValidateStoredKindNames(t *testing.T) {
	cluster := func(apiVersion, kind, name, body string) string {
		return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: '" + name + "'}\n" + body
	}
	ctb := func(name, signer string) string {
		return cluster("certificates.k8s.io/v1", "ClusterTrustBundle", name, "spec: {signerName: '"+signer+"', trustBundle: x}")
	}
	runBadCases(t, []badCase{
		{name: "most kinds: DNS subdomain", doc: cluster("storage.k8s.io/v1", "StorageClass", "Fast_SSD", "provisioner: x"),
			want: []string{"metadata.name: Invalid value"}},
		{name: "subdomain with dots", doc: cluster("storage.k8s.io/v1", "StorageClass", "fast.ssd", "provisioner: x")},
		{name: "namespaced kind needs a namespace", doc: cluster("coordination.k8s.io/v1", "Lease", "lock", "spec: {}"),
			want: []string{"metadata.namespace: Required value"}},
		{name: "cluster-scoped kind has none",
			doc:  "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high, namespace: default}\nvalue: 10",
			want: []string{"metadata.namespace: Forbidden"}},
		{name: "ipaddress named by its address", doc: cluster("networking.k8s.io/v1", "IPAddress", "10.96.0.10", "spec: {}")},
		{name: "ipaddress name not an address", doc: cluster("networking.k8s.io/v1", "IPAddress", "kube-dns", "spec: {}"),
			want: []string{"metadata.name: Invalid value"}},
		{name: "ipaddress name not canonical", doc: cluster("networking.k8s.io/v1", "IPAddress", "2001:DB8::1", "spec: {}"),
			want: []string{"metadata.name: Invalid value"}, detail: `must be in canonical form ("2001:db8::1")`},
		{name: "trust bundle of a signer", doc: ctb("example.com:signer:one", "example.com/signer")},
		{name: "trust bundle without the signer prefix", doc: ctb("one", "example.com/signer"),
			want:   []string{"metadata.name: Invalid value"},
			detail: "ClusterTrustBundle for signerName example.com/signer must be named with prefix example.com:signer:"},
		{name: "trust bundle without signer has no colon", doc: ctb("a:b", ""),
			want: []string{"metadata.name: Invalid value"}},
		{name: "csr names are free", doc: cluster("certificates.k8s.io/v1", "CertificateSigningRequest", "Alice@Example", "spec: {request: eA==, signerName: x/y}")},
		{name: "csr name is a path segment", doc: cluster("certificates.k8s.io/v1", "CertificateSigningRequest", "a/b", "spec: {request: eA==, signerName: x/y}"),
			want: []string{"metadata.name: Invalid value"}},
	})
}

func TestValidateEndpointSlice(t *testing.T) {
	slice := func(body string) string { return doc("discovery.k8s.io/v1", "EndpointSlice", body) }
	runBadCases(t, []badCase{
		{name: "address type required", doc: slice("endpoints: []"),
			want: []string{"addressType: Required value"}},
		{name: "address type", doc: slice("addressType: IPv5"),
			want: []string{"addressType: Unsupported value"}},
		{name: "endpoint needs an address", doc: slice("addressType: IPv4\nendpoints: [{addresses: []}]"),
			want: []string{"endpoints[0].addresses: Required value"}},
		{name: "address of the slice's type", doc: slice("addressType: IPv4\nendpoints: [{addresses: ['fd00::1']}, {addresses: ['10.0.0.300']}]"),
			want: []string{"endpoints[0].addresses[0]: Invalid value", "endpoints[1].addresses[0]: Invalid value"}},
		{name: "fqdn", doc: slice("addressType: FQDN\nendpoints: [{addresses: [db.example.com]}]")},
		{name: "node and host names", doc: slice("addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], nodeName: Node_1, hostname: a.b}]"),
			want: []string{"endpoints[0].hostname: Invalid value", "endpoints[0].nodeName: Invalid value"}},
		{name: "ports", doc: slice("addressType: IPv4\nports: [{name: http, port: 80}, {name: http, port: 70000}, {name: Bad_Name, protocol: ICMP}]"),
			want: []string{"ports[1].name: Duplicate value", "ports[1].port: Invalid value",
				"ports[2].name: Invalid value", "ports[2].protocol: Unsupported value"}},
		{name: "port name required without defaults", noDefault: true, doc: slice("addressType: IPv4\nports: [{port: 80}]"),
			want: []string{"ports[0].name: Required value", "ports[0].protocol: Required value"}},
	})
}

func TestEndpointSliceDefaultsAndWarning(t *testing.T) {
	obj, _, err := Decode([]byte(doc("discovery.k8s.io/v1", "EndpointSlice", "addressType: IPv4\nports: [{port: 80}]")))
	if err != nil {
		t.Fatal(err)
	}
	Default(obj)
	got := Warnings(obj)
	want := []string{"EndpointSlice objects not managed by endpointslice-controller.k8s.io are stored but not acted on by Strom yet (the service proxy and DNS read Endpoints)"}
	if !slices.Equal(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
	if errs := Validate(obj); len(errs) > 0 {
		t.Errorf("defaulted slice invalid: %v", errs.ToAggregate())
	}
}

func TestDefaultStoredKinds(t *testing.T) {
	decode := func(d string) Object {
		t.Helper()
		obj, _, err := Decode([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		Default(obj)
		return obj
	}
	sc := decode("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: s}\nprovisioner: x").(*storagev1.StorageClass)
	if *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete || *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate {
		t.Errorf("storage class defaults: %v %v", *sc.ReclaimPolicy, *sc.VolumeBindingMode)
	}
	pc := decode("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: p}\nvalue: 1").(*schedulingv1.PriorityClass)
	if *pc.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("priority class preemption policy %v", *pc.PreemptionPolicy)
	}
	pl := decode("apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: PriorityLevelConfiguration\nmetadata: {name: p}\n" +
		"spec: {type: Limited, limited: {limitResponse: {type: Queue, queuing: {queues: 10}}}}").(*flowcontrolv1.PriorityLevelConfiguration)
	l := pl.Spec.Limited
	if q := l.LimitResponse.Queuing; *l.NominalConcurrencyShares != 30 || *l.LendablePercent != 0 ||
		q.Queues != 10 || q.HandSize != 8 || q.QueueLengthLimit != 50 {
		t.Errorf("priority level defaults: %+v %+v", l, q)
	}
	fs := decode("apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata: {name: f}\nspec: {priorityLevelConfiguration: {name: p}}").(*flowcontrolv1.FlowSchema)
	if fs.Spec.MatchingPrecedence != 1000 {
		t.Errorf("flow schema precedence %d", fs.Spec.MatchingPrecedence)
	}
}

func TestValidateExtensionNames(t *testing.T) {
	crd := func(name string) string {
		return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: '" + name + "'}\n" +
			"spec: {group: stable.example.com, scope: Namespaced, names: {plural: crontabs, kind: CronTab}, versions: [{name: v1, served: true, storage: true}]}"
	}
	apisvc := func(name, group string) string {
		return "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: '" + name + "'}\n" +
			"spec: {group: '" + group + "', version: v1, groupPriorityMinimum: 100, versionPriority: 10}"
	}
	runBadCases(t, []badCase{
		{name: "crd named plural.group", doc: crd("crontabs.stable.example.com")},
		{name: "crd named otherwise", doc: crd("crontab.stable.example.com"),
			want: []string{"metadata.name: Invalid value"}, detail: `must be spec.names.plural+"."+spec.group`},
		{name: "apiservice named version.group", doc: apisvc("v1.metrics.k8s.io", "metrics.k8s.io")},
		{name: "core group's apiservice", doc: apisvc("v1.", "")},
		{name: "apiservice named otherwise", doc: apisvc("metrics", "metrics.k8s.io"),
			want: []string{"metadata.name: Invalid value"}, detail: "must be `spec.version+\".\"+spec.group`: \"v1.metrics.k8s.io\""},
	})
}
