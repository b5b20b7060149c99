package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// StaticAnnotation marks a pod the agent runs from a file in its manifest
// directory (a "static pod"). Its value is the file.
const StaticAnnotation = api.StaticPodAnnotation

// staticPods keeps the pods of the manifest directory applied: every Pod
// manifest becomes a pod named <name>-<node>, bound to this node, and a
// pod whose file is gone is deleted. Level-based: each pass compares the
// directory with the pods that carry the annotation.
func (a *Agent) staticPods(ctx context.Context, dir string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.syncStatic(ctx, dir); err != nil && ctx.Err() == nil {
			a.log.Warn("static pods", zap.String("dir", dir), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) syncStatic(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading manifest dir: %w", err)
	}
	want := map[string]bool{} // "ns/name" of pods the directory declares
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		ms, err := objects.DecodeManifests(f, path)
		f.Close()
		if err != nil {
			a.log.Warn("static pod manifest", zap.Error(err)) // the other files still count
			continue
		}
		for _, m := range ms {
			pod, ok := m.Object.(*corev1.Pod)
			if !ok {
				a.log.Warn("static pod manifest holds something other than a Pod; ignored", zap.String("file", path), zap.String("kind", m.Kind.Kind))
				continue
			}
			pod.Name = pod.Name + "-" + a.cfg.NodeName
			if pod.Namespace == "" {
				pod.Namespace = "default"
			}
			pod.Spec.NodeName = a.cfg.NodeName
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[StaticAnnotation] = path
			want[pod.Namespace+"/"+pod.Name] = true
			data, _ := json.Marshal(pod)
			if _, err := a.cfg.Client.Do(ctx, api.VerbApply, &api.Request{Object: data, Namespace: pod.Namespace}); err != nil {
				a.log.Warn("applying static pod", zap.String("pod", pod.Name), zap.Error(err))
			}
		}
	}
	resp, err := a.cfg.Client.ListAll(ctx, api.Request{Resource: "pods", AllNamespaces: true, FieldSelector: "spec.nodeName=" + a.cfg.NodeName})
	if err != nil {
		return err
	}
	for _, item := range resp.Items {
		var p corev1.Pod
		if err := json.Unmarshal(item, &p); err != nil {
			continue
		}
		if p.Annotations[StaticAnnotation] == "" || want[p.Namespace+"/"+p.Name] || p.DeletionTimestamp != nil {
			continue
		}
		_, err := a.cfg.Client.Do(ctx, api.VerbDelete, &api.Request{Resource: "pods", Namespace: p.Namespace, Name: p.Name})
		if err != nil && !events.IsNotFound(err) {
			a.log.Warn("removing static pod", zap.String("pod", p.Name), zap.Error(err))
		}
	}
	return nil
}
