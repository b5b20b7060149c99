package controller_test

import (
	"context"
	"fmt"

	"github.com/strom-project/strom/reconcilers/controller"
)

func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r := controller.ReconcilerFunc(func(ctx context.Context, key string) (controller.Result, error) {
		fmt.Println("reconciling", key)
		close(done)
		return controller.Result{}, nil
	})
	c := controller.New(r, controller.Options{Name: "example", Workers: 2})
	c.Enqueue("default/web")
	c.Enqueue("default/web") // de-duplicated while waiting
	go func() { <-done; cancel() }()
	if err := c.Run(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("reconciles:", c.Metrics().Reconciles)
	// Output:
	// reconciling default/web
	// reconciles: 1
}
