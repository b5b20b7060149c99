package pods

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

// newFakeClock returns k8s' settable clock stopped at a fixed time.
func newFakeClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// recordedEvent is one StatusWriter.Event call.
type recordedEvent struct {
	Pod, Type, Reason, Message string
}

// fakeStatus records what the manager reports.
type fakeStatus struct {
	mu         sync.Mutex
	statuses   map[types.UID][]corev1.PodStatus
	terminated []types.UID
	events     []recordedEvent
}

func newFakeStatus() *fakeStatus {
	return &fakeStatus{statuses: map[types.UID][]corev1.PodStatus{}}
}

func (f *fakeStatus) UpdatePodStatus(ctx context.Context, pod *corev1.Pod) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses[pod.UID] = append(f.statuses[pod.UID], *pod.Status.DeepCopy())
	return nil
}

func (f *fakeStatus) PodTerminated(ctx context.Context, pod *corev1.Pod) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.terminated = append(f.terminated, pod.UID)
	return nil
}

func (f *fakeStatus) Event(ctx context.Context, pod *corev1.Pod, typ, reason, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, recordedEvent{Pod: pod.Name, Type: typ, Reason: reason, Message: msg})
}

// last returns the last status written for uid.
func (f *fakeStatus) last(uid types.UID) (corev1.PodStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.statuses[uid]
	if len(s) == 0 {
		return corev1.PodStatus{}, false
	}
	return s[len(s)-1], true
}

func (f *fakeStatus) wasTerminated(uid types.UID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.terminated {
		if u == uid {
			return true
		}
	}
	return false
}

func (f *fakeStatus) hasEvent(reason, substr string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.events {
		if e.Reason == reason && strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

func (f *fakeStatus) eventLog() []recordedEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedEvent(nil), f.events...)
}

// fakeObjects serves ConfigMaps and Secrets from maps, recording reads.
type fakeObjects struct {
	mu         sync.Mutex
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	reads      int
}

func newFakeObjects() *fakeObjects {
	return &fakeObjects{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
}

func (f *fakeObjects) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	cm, ok := f.configMaps[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("configmap %s/%s: %w", ns, name, ErrObjectNotFound)
	}
	return cm.DeepCopy(), nil
}

func (f *fakeObjects) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	s, ok := f.secrets[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, ErrObjectNotFound)
	}
	return s.DeepCopy(), nil
}

func (f *fakeObjects) putConfigMap(ns, name string, data map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configMaps[ns+"/"+name] = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

func (f *fakeObjects) putSecret(ns, name string, data map[string][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[ns+"/"+name] = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

// fakeNetwork hands out IPs and records setups and teardowns.
type fakeNetwork struct {
	mu        sync.Mutex
	next      int
	ips       map[string]string
	teardowns []string
	failSetup error
}

func newFakeNetwork() *fakeNetwork { return &fakeNetwork{ips: map[string]string{}} }

func (f *fakeNetwork) Setup(ctx context.Context, podUID, netns string, ports []PortMapping) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSetup != nil {
		return "", f.failSetup
	}
	if ip, ok := f.ips[podUID]; ok {
		return ip, nil
	}
	f.next++
	ip := fmt.Sprintf("10.244.0.%d", f.next+1)
	f.ips[podUID] = ip
	return ip, nil
}

func (f *fakeNetwork) Teardown(ctx context.Context, podUID, netns string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ips, podUID)
	f.teardowns = append(f.teardowns, podUID)
	return nil
}

// PodIP makes the fake remember attachments like NetworkAdapter.
func (f *fakeNetwork) PodIP(podUID string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ip, ok := f.ips[podUID]
	return ip, ok
}

func (f *fakeNetwork) tornDown(uid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.teardowns {
		if u == uid {
			return true
		}
	}
	return false
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last: %s", d, what, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testPod builds a pod with the given containers.
func testPod(name string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: containers, RestartPolicy: corev1.RestartPolicyAlways},
	}
}

func ctr(name, image string, cmd ...string) corev1.Container {
	return corev1.Container{Name: name, Image: image, Command: cmd, ImagePullPolicy: corev1.PullIfNotPresent}
}
