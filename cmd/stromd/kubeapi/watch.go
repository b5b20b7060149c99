package kubeapi

import (
	"context"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/strom-project/strom/cmd/stromd/apiserver"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// bookmarkEvery is how often a watch that allows bookmarks gets one.
const bookmarkEvery = time.Minute

// initialEventsEnd is the annotation of the bookmark that ends a
// watch-list's initial events.
const initialEventsEnd = "k8s.io/initial-events-end"

func (r *resource) Watch(ctx context.Context, opts *metainternalversion.ListOptions) (watch.Interface, error) {
	req := r.listRequest(ctx, opts)
	var o apiserver.WatchOptions
	bookmarks := false
	if opts != nil {
		bookmarks = opts.AllowWatchBookmarks
		o.Initial = opts.SendInitialEvents != nil && *opts.SendInitialEvents
		if rv := opts.ResourceVersion; rv != "" && rv != "0" && !o.Initial {
			var err error
			if o.From, err = strconv.ParseUint(rv, 10, 64); err != nil {
				return nil, apierrors.NewBadRequest("invalid resource version " + strconv.Quote(rv))
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	w, err := r.core.Watch(ctx, caller(ctx), req, o)
	if err != nil {
		cancel()
		return nil, err
	}
	ws := &watchStream{r: r, ch: make(chan watch.Event, 64), cancel: cancel}
	go ws.run(ctx, w, o.Initial, bookmarks)
	return ws, nil
}

// watchStream turns the core's watch into Kubernetes watch events.
type watchStream struct {
	r      *resource
	ch     chan watch.Event
	cancel context.CancelFunc
	once   sync.Once
}

func (w *watchStream) Stop()                          { w.once.Do(w.cancel) }
func (w *watchStream) ResultChan() <-chan watch.Event { return w.ch }

func (w *watchStream) send(ctx context.Context, e watch.Event) bool {
	select {
	case w.ch <- e:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *watchStream) run(ctx context.Context, cw *apiserver.Watch, initial, bookmarks bool) {
	defer close(w.ch)
	defer w.Stop()
	last := cw.Seq
	if initial {
		for _, e := range cw.Initial {
			obj, err := e.Object()
			if err != nil {
				w.send(ctx, errorEvent(apierrors.NewInternalError(err)))
				return
			}
			if !w.send(ctx, watch.Event{Type: watch.Added, Object: obj}) {
				return
			}
		}
		if !w.send(ctx, w.bookmark(last, true)) {
			return
		}
	}
	var tick <-chan time.Time
	if bookmarks {
		t := time.NewTicker(bookmarkEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			if !w.send(ctx, w.bookmark(max(last, w.r.core.LiveSeq()), false)) {
				return
			}
		case we, ok := <-cw.C:
			if !ok {
				if err := cw.Err(); err != nil && ctx.Err() == nil {
					w.send(ctx, errorEvent(watchError(err, cw.Seq)))
				}
				return
			}
			e, err := w.event(we)
			if err != nil {
				w.send(ctx, errorEvent(apierrors.NewInternalError(err)))
				return
			}
			last = we.Event.Seq
			if !w.send(ctx, e) {
				return
			}
		}
	}
}

// event converts one change; a deletion carries the object's last state.
func (w *watchStream) event(we projections.WatchEvent) (watch.Event, error) {
	ev := we.Event
	if we.Entry != nil {
		obj, err := we.Entry.Object()
		if err != nil {
			return watch.Event{}, err
		}
		t := watch.Modified
		if ev.Type == events.TypeCreated {
			t = watch.Added
		}
		return watch.Event{Type: t, Object: obj}, nil
	}
	var obj objects.Object
	if len(ev.Object) > 0 {
		o, err := objects.DecodeStored(w.r.k, ev.Object)
		if err != nil {
			return watch.Event{}, err
		}
		obj = o
	} else {
		obj = w.r.k.New()
		obj.SetNamespace(ev.Namespace)
		obj.SetName(ev.Name)
	}
	obj.SetResourceVersion(events.ResourceVersion(ev.Seq))
	return watch.Event{Type: watch.Deleted, Object: obj}, nil
}

// bookmark is an object of the watched kind carrying only a
// resourceVersion (and, after the initial events, their end mark).
func (w *watchStream) bookmark(seq uint64, end bool) watch.Event {
	obj := w.r.k.New()
	obj.SetResourceVersion(events.ResourceVersion(seq))
	if end {
		obj.SetAnnotations(map[string]string{initialEventsEnd: "true"})
	}
	return watch.Event{Type: watch.Bookmark, Object: obj}
}

// watchError is the Status a failed watch ends with: a start older than
// the log keeps is 410 Expired, so informers list again.
func watchError(err error, from uint64) error {
	if events.ReasonOf(err) == events.ReasonGone {
		return apierrors.NewResourceExpired("too old resource version: " + events.ResourceVersion(from) + " (" + err.Error() + ")")
	}
	return err
}

func errorEvent(err error) watch.Event {
	var st metav1.Status
	if s, ok := err.(apierrors.APIStatus); ok {
		st = s.Status()
	} else {
		st = apierrors.NewInternalError(err).Status()
	}
	return watch.Event{Type: watch.Error, Object: &st}
}
