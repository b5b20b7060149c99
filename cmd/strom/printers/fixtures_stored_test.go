package printers

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events/objects"
)

// Fixtures of the kinds Strom stores without acting on, and of
// EndpointSlices and Leases: each table's special cases (defaults shown
// for unset fields, "+ N more...", "(default)" classes).

func withAnnotations(m metav1.ObjectMeta, kv ...string) metav1.ObjectMeta {
	m.Annotations = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Annotations[kv[i]] = kv[i+1]
	}
	return m
}

func fixtureDiscovery() map[string][]objects.Object {
	tpl := template("worker", "worker", "log")
	rc := &corev1.ReplicationController{ObjectMeta: meta("default", "legacy", 3*time.Hour),
		Spec:   corev1.ReplicationControllerSpec{Replicas: ptr(int32(3)), Selector: map[string]string{"app": "legacy"}, Template: &tpl},
		Status: corev1.ReplicationControllerStatus{Replicas: 3, ReadyReplicas: 2}}
	rcBare := &corev1.ReplicationController{ObjectMeta: meta("default", "empty", time.Minute)}
	pt := &corev1.PodTemplate{ObjectMeta: meta("default", "batch-worker", time.Hour), Template: tpl}
	owned := meta("default", "web-7d4b9c", 2*time.Hour)
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", Controller: ptr(true)}}
	cr := &appsv1.ControllerRevision{ObjectMeta: owned, Revision: 2}
	crOrphan := &appsv1.ControllerRevision{ObjectMeta: meta("default", "orphan-1", time.Minute), Revision: 1}

	port := func(name string, p int32) discoveryv1.EndpointPort {
		return discoveryv1.EndpointPort{Name: ptr(name), Port: ptr(p), Protocol: ptr(corev1.ProtocolTCP)}
	}
	ep := func(ip string) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}
	}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: meta("default", "web-x7k2p", time.Hour), AddressType: discoveryv1.AddressTypeIPv4,
		Ports:     []discoveryv1.EndpointPort{port("http", 8080), port("metrics", 9090)},
		Endpoints: []discoveryv1.Endpoint{ep("10.244.1.5"), ep("10.244.1.6"), ep("10.244.2.7"), ep("10.244.2.8")}}
	many := &discoveryv1.EndpointSlice{ObjectMeta: meta("default", "api-p9z4q", time.Minute), AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{port("a", 1), port("b", 2), {Name: ptr("c")}, {}}, Endpoints: []discoveryv1.Endpoint{ep("10.244.3.2")}}
	placeholder := &discoveryv1.EndpointSlice{ObjectMeta: meta("default", "db-m2k8d", 10*time.Second), AddressType: discoveryv1.AddressTypeIPv4}

	lease := &coordinationv1.Lease{ObjectMeta: meta("default", "my-operator-lock", 6*time.Hour),
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("my-operator-6d8f7-x2x9q")}}
	free := &coordinationv1.Lease{ObjectMeta: meta("default", "released", time.Hour)}
	return map[string][]objects.Object{
		"replicationcontroller": {rc, rcBare}, "podtemplate": {pt}, "controllerrevision": {cr, crOrphan},
		"endpointslice": {slice, many, placeholder}, "lease": {lease, free},
	}
}

func fixtureNetwork() map[string][]objects.Object {
	ic := &networkingv1.IngressClass{ObjectMeta: meta("", "nginx", 24*time.Hour), Spec: networkingv1.IngressClassSpec{
		Controller: "k8s.io/ingress-nginx",
		Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr("k8s.example.com"), Kind: "IngressParameters", Name: "external-lb"}}}
	icBare := &networkingv1.IngressClass{ObjectMeta: meta("", "plain", time.Hour), Spec: networkingv1.IngressClassSpec{Controller: "example.com/lb"}}
	np := &networkingv1.NetworkPolicy{ObjectMeta: meta("default", "db-access", time.Hour),
		Spec: networkingv1.NetworkPolicySpec{PodSelector: *selector("db")}}
	npAll := &networkingv1.NetworkPolicy{ObjectMeta: meta("default", "deny-all", 2*time.Hour)}
	cidr := &networkingv1.ServiceCIDR{ObjectMeta: meta("", "kubernetes", 48*time.Hour),
		Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.96.0.0/16", "fd00:10:96::/112"}}}
	ip := &networkingv1.IPAddress{ObjectMeta: meta("", "10.96.0.10", time.Hour), Spec: networkingv1.IPAddressSpec{
		ParentRef: &networkingv1.ParentReference{Resource: "services", Namespace: "kube-system", Name: "kube-dns"}}}
	ipGrouped := &networkingv1.IPAddress{ObjectMeta: meta("", "10.96.0.20", time.Hour), Spec: networkingv1.IPAddressSpec{
		ParentRef: &networkingv1.ParentReference{Group: "gateway.networking.k8s.io", Resource: "Gateways", Name: "edge"}}}
	ipOrphan := &networkingv1.IPAddress{ObjectMeta: meta("", "10.96.0.30", time.Minute)}
	never := corev1.PreemptNever
	pc := &schedulingv1.PriorityClass{ObjectMeta: meta("", "high-priority", 24*time.Hour), Value: 1000000,
		PreemptionPolicy: ptr(corev1.PreemptLowerPriority)}
	pcDefault := &schedulingv1.PriorityClass{ObjectMeta: meta("", "batch", time.Hour), Value: -10, GlobalDefault: true, PreemptionPolicy: &never}
	rtc := &nodev1.RuntimeClass{ObjectMeta: meta("", "gvisor", time.Hour), Handler: "runsc"}
	return map[string][]objects.Object{
		"ingressclass": {ic, icBare}, "networkpolicy": {np, npAll}, "servicecidr": {cidr},
		"ipaddress": {ip, ipGrouped, ipOrphan}, "priorityclass": {pc, pcDefault}, "runtimeclass": {rtc},
	}
}

func fixtureStorageClasses() map[string][]objects.Object {
	retain := corev1.PersistentVolumeReclaimRetain
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	sc := &storagev1.StorageClass{ObjectMeta: withAnnotations(meta("", "standard", 30*24*time.Hour), "storageclass.kubernetes.io/is-default-class", "true"),
		Provisioner: "rancher.io/local-path", ReclaimPolicy: &retain, VolumeBindingMode: &wait, AllowVolumeExpansion: ptr(true)}
	scBeta := &storagev1.StorageClass{ObjectMeta: withAnnotations(meta("", "old-default", 24*time.Hour), "storageclass.beta.kubernetes.io/is-default-class", "true"),
		Provisioner: "kubernetes.io/no-provisioner"}
	vac := &storagev1.VolumeAttributesClass{ObjectMeta: withAnnotations(meta("", "silver", time.Hour), "volumeattributesclass.alpha.kubernetes.io/is-default-class", "true"),
		DriverName: "pd.csi.storage.gke.io"}
	vacGold := &storagev1.VolumeAttributesClass{ObjectMeta: meta("", "gold", time.Hour), DriverName: "pd.csi.storage.gke.io"}
	va := &storagev1.VolumeAttachment{ObjectMeta: meta("", "csi-0123abcd", time.Hour), Spec: storagev1.VolumeAttachmentSpec{
		Attacher: "ebs.csi.aws.com", NodeName: "node-1", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr("pvc-3a7c")}},
		Status: storagev1.VolumeAttachmentStatus{Attached: true}}
	vaInline := &storagev1.VolumeAttachment{ObjectMeta: meta("", "csi-inline", time.Minute), Spec: storagev1.VolumeAttachmentSpec{
		Attacher: "ebs.csi.aws.com", NodeName: "node-2", Source: storagev1.VolumeAttachmentSource{InlineVolumeSpec: &corev1.PersistentVolumeSpec{}}}}
	drv := &storagev1.CSIDriver{ObjectMeta: meta("", "hostpath.csi.k8s.io", time.Hour), Spec: storagev1.CSIDriverSpec{
		AttachRequired: ptr(false), PodInfoOnMount: ptr(true), StorageCapacity: ptr(true), RequiresRepublish: ptr(true),
		TokenRequests:        []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "gcp"}},
		VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent, storagev1.VolumeLifecycleEphemeral}}}
	drvBare := &storagev1.CSIDriver{ObjectMeta: meta("", "ebs.csi.aws.com", 2*time.Hour)}
	node := &storagev1.CSINode{ObjectMeta: meta("", "node-1", time.Hour), Spec: storagev1.CSINodeSpec{
		Drivers: []storagev1.CSINodeDriver{{Name: "hostpath.csi.k8s.io", NodeID: "node-1"}, {Name: "ebs.csi.aws.com", NodeID: "i-0abc"}}}}
	capacity := resource.MustParse("100Gi")
	cap1 := &storagev1.CSIStorageCapacity{ObjectMeta: meta("default", "csisc-node-1", time.Hour), StorageClassName: "standard", Capacity: &capacity}
	cap2 := &storagev1.CSIStorageCapacity{ObjectMeta: meta("default", "csisc-unknown", time.Hour), StorageClassName: "fast"}
	svm := &storagemigrationv1.StorageVersionMigration{ObjectMeta: meta("", "secrets-migration", time.Hour),
		Spec: storagemigrationv1.StorageVersionMigrationSpec{Resource: metav1.GroupResource{Resource: "secrets"}}}
	svmApps := &storagemigrationv1.StorageVersionMigration{ObjectMeta: meta("", "deployments-migration", time.Hour),
		Spec: storagemigrationv1.StorageVersionMigrationSpec{Resource: metav1.GroupResource{Group: "apps", Resource: "deployments"}}}
	return map[string][]objects.Object{
		"storageclass": {sc, scBeta}, "volumeattributesclass": {vac, vacGold}, "volumeattachment": {va, vaInline},
		"csidriver": {drv, drvBare}, "csinode": {node}, "csistoragecapacity": {cap1, cap2},
		"storageversionmigration": {svm, svmApps},
	}
}
