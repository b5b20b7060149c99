// Command informer is a client-go program as users write them: a shared
// informer factory lists and watches ConfigMaps through the Kubernetes
// API and prints every change it is told of, one line each:
//
//	ADD ns/name rv data.v
//	UPDATE ns/name rv data.v
//	DELETE ns/name rv data.v
//
// It prints "SYNCED" once the first list is in. The e2e tests run it
// against Strom and restart stromd under it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file")
	namespace := flag.String("namespace", "default", "namespace to watch")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "informer:", err)
		os.Exit(1)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "informer:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 10*time.Minute, informers.WithNamespace(*namespace))
	inf := factory.Core().V1().ConfigMaps().Informer()
	show := func(verb string, obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok {
			return
		}
		fmt.Printf("%s %s/%s %s %s\n", verb, cm.Namespace, cm.Name, cm.ResourceVersion, cm.Data["v"])
	}
	_, err = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { show("ADD", obj) },
		UpdateFunc: func(old, obj any) {
			if old.(*corev1.ConfigMap).ResourceVersion != obj.(*corev1.ConfigMap).ResourceVersion {
				show("UPDATE", obj)
			}
		},
		DeleteFunc: func(obj any) { show("DELETE", obj) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "informer:", err)
		os.Exit(1)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		fmt.Fprintln(os.Stderr, "informer: cache did not sync")
		os.Exit(1)
	}
	fmt.Println("SYNCED")
	<-ctx.Done()
	factory.Shutdown()
}
