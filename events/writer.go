package events

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events/objects"
)

// Outcome says what a write did, in kubectl's words.
type Outcome string

const (
	Created       Outcome = "created"
	Configured    Outcome = "configured"
	Unchanged     Outcome = "unchanged"
	Deleted       Outcome = "deleted"
	StatusUpdated Outcome = "status updated"
)

// WriteOptions carry who asks and why.
type WriteOptions struct {
	Actor  string // user, controller or node; required
	Cause  string // id of the event or request that led to this write
	DryRun bool   // validate and compute, append nothing
}

// Result is what a write produced.
type Result struct {
	Outcome  Outcome
	Object   objects.Object // the stored state, resourceVersion set
	Seq      uint64         // the appended event's sequence, or the current one if unchanged
	EventID  string         // empty when nothing was appended
	Warnings []string
}

// Writer is the write path: defaulting, validation, the admissions (e.g.
// Service allocation), then an append with per-object optimistic
// concurrency; deletions follow Kubernetes' rules (Delete). It is the
// only code that publishes to the event subjects, and its rules hold for
// every caller alike.
type Writer struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	// pool spreads reads and appends over several connections: a NATS
	// server handles one connection's messages in order, so concurrent
	// writes on a single connection queue behind each other.
	pool    []jetstream.Stream
	pools   []jetstream.JetStream
	sealer  *Sealer
	clock   clock.PassiveClock
	log     *zap.Logger
	retries int
	view    ViewFunc
	// admission are the rules applied to every write of the kinds they
	// handle (see Admission).
	admission []Admission
	// durable, if set, returns once every append acknowledged before the
	// call is on stable storage (see WriterConfig.Durable).
	durable func(ctx context.Context) error
}

// ViewFunc looks an object up in a live view: its stored JSON and the
// sequence of its last event; ok is false when the view does not hold it.
type ViewFunc func(resource, namespace, name string) (data []byte, seq uint64, ok bool)

// WriterConfig configures a Writer.
type WriterConfig struct {
	JetStream jetstream.JetStream
	// Pool, if set, are more JetStream contexts (on their own connections)
	// to spread writes over; each object always uses the same one.
	Pool   []jetstream.JetStream
	Sealer *Sealer
	Clock  clock.PassiveClock
	Logger *zap.Logger
	// View, if set, is tried first for an object's current state on
	// writes (see readForWrite); the log stays the authority.
	View ViewFunc
	// Admission are rules every write goes through, in order, whoever
	// writes (e.g. the Service allocator of events/alloc).
	Admission []Admission
	// Durable, if set, is called after each append the log acknowledged
	// and before the write returns; it must return only once that append
	// is on stable storage (stromd's group commit fsyncs the embedded
	// server's message blocks, shared by all writers waiting at the time).
	// An error fails the write: the event is in the log but may not
	// survive a power loss.
	Durable func(ctx context.Context) error
}

// NewWriter opens the event stream, which must exist (see EnsureStreams).
func NewWriter(ctx context.Context, cfg WriterConfig) (*Writer, error) {
	st, err := cfg.JetStream.Stream(ctx, StreamName)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", StreamName, err)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	w := &Writer{js: cfg.JetStream, stream: st, sealer: cfg.Sealer, clock: cfg.Clock, log: cfg.Logger, retries: 8, view: cfg.View, admission: cfg.Admission, durable: cfg.Durable}
	w.pool = []jetstream.Stream{st}
	w.pools = cfg.Pool
	for _, js := range cfg.Pool {
		ps, err := js.Stream(ctx, StreamName)
		if err != nil {
			return nil, fmt.Errorf("opening stream %s: %w", StreamName, err)
		}
		w.pool = append(w.pool, ps)
	}
	return w, nil
}

// streamFor picks the connection an object's reads and appends use.
func (w *Writer) streamFor(subject string) (jetstream.Stream, jetstream.JetStream) {
	if len(w.pool) == 1 {
		return w.stream, w.js
	}
	h := fnv.New32a()
	h.Write([]byte(subject))
	i := int(h.Sum32() % uint32(len(w.pool)))
	if i == 0 {
		return w.stream, w.js
	}
	return w.pool[i], w.pools[i-1]
}

// current is an object's last event: the object, its sequence, and whether
// that event is a deletion. seq is 0 when the subject has no event at all.
type current struct {
	obj     objects.Object
	seq     uint64
	deleted bool
	ev      *Event
}

func (c *current) exists() bool { return c.seq != 0 && !c.deleted }

// read returns the object's current state straight from the log, which is
// always up to date (a projection may lag).
func (w *Writer) read(ctx context.Context, k *objects.Kind, ns, name string) (*current, error) {
	subj := Subject(k.Resource, ns, name)
	st, _ := w.streamFor(subj)
	m, err := st.GetLastMsgForSubject(ctx, subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return &current{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", subj, err)
	}
	ev, err := DecodeMsg(m.Subject, m.Header, m.Data, m.Sequence, m.Time, w.sealer)
	if err != nil {
		return nil, err
	}
	obj, err := objects.DecodeStored(k, ev.Object)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", subj, err)
	}
	obj.SetResourceVersion(ResourceVersion(m.Sequence))
	return &current{obj: obj, seq: m.Sequence, deleted: ev.Type == TypeDeleted, ev: ev}, nil
}

// readForWrite reads the current state from the view when allowed and
// the view has the object, else from the log. It says which it used.
func (w *Writer) readForWrite(ctx context.Context, k *objects.Kind, ns, name string, viewOK bool) (*current, bool, error) {
	if viewOK && w.view != nil {
		if data, seq, ok := w.view(k.Resource, ns, name); ok {
			obj, err := objects.DecodeStored(k, data)
			if err == nil {
				obj.SetResourceVersion(ResourceVersion(seq))
				return &current{obj: obj, seq: seq}, true, nil
			}
		}
	}
	cur, err := w.read(ctx, k, ns, name)
	return cur, false, err
}

// Get returns an object's current state from the log: NotFound if it does
// not exist.
func (w *Writer) Get(ctx context.Context, k *objects.Kind, ns, name string) (objects.Object, error) {
	cur, err := w.read(ctx, k, scope(k, ns), name)
	if err != nil {
		return nil, err
	}
	if !cur.exists() {
		return nil, notFound(k, name)
	}
	return cur.obj, nil
}

func notFound(k *objects.Kind, name string) error {
	return NewNotFound(k, name)
}

func scope(k *objects.Kind, ns string) string {
	if !k.Namespaced {
		return ""
	}
	if ns == "" {
		return metav1.NamespaceDefault
	}
	return ns
}

// prepare defaults and validates an incoming object and returns its kind.
// Metadata is validated by objects' one metadata validation.
func (w *Writer) prepare(obj objects.Object) (*objects.Kind, error) {
	k, err := objects.KindOf(obj)
	if err != nil {
		return nil, Errorf(ReasonBadRequest, "%v", err)
	}
	obj.GetObjectKind().SetGroupVersionKind(k.GVK())
	obj.SetNamespace(scope(k, obj.GetNamespace()))
	objects.Default(obj)
	if errs := objects.ValidateWrite(obj); len(errs) > 0 {
		return nil, NewInvalid(k, obj.GetName(), errs)
	}
	return k, nil
}

// checkNamespace makes sure a namespaced object's namespace exists, and,
// for creations, that it is not being deleted.
func (w *Writer) checkNamespace(ctx context.Context, k *objects.Kind, ns, name string, creating bool) error {
	if !k.Namespaced {
		return nil
	}
	nsKind := objects.ByKind("Namespace")
	cur, err := w.read(ctx, nsKind, "", ns)
	if err != nil {
		return err
	}
	if !cur.exists() {
		return NewNotFound(nsKind, ns)
	}
	if creating && cur.obj.GetDeletionTimestamp() != nil {
		return newNamespaceTerminating(k, name, ns)
	}
	return nil
}

// precondition checks a client's expected resourceVersion.
func precondition(k *objects.Kind, name, want string, cur *current) error {
	if want == "" {
		return nil
	}
	if ResourceVersion(cur.seq) != want {
		return NewConflict(k, name, "", nil)
	}
	return nil
}

// Apply creates the object or, if it exists, makes its spec and metadata
// what the manifest says, keeping what the cluster owns: uid,
// creationTimestamp, status, and system annotations and owner references
// the manifest leaves out. Applying an identical manifest appends nothing.
func (w *Writer) Apply(ctx context.Context, obj objects.Object, o WriteOptions) (*Result, error) {
	return w.write(ctx, obj, o, modeApply)
}

// Create creates the object; AlreadyExists if it exists. Unlike Apply it
// keeps the status it is given (controllers and agents create objects with
// status).
func (w *Writer) Create(ctx context.Context, obj objects.Object, o WriteOptions) (*Result, error) {
	return w.write(ctx, obj, o, modeCreate)
}

// Update replaces the object's spec and metadata; NotFound if it does not
// exist. A resourceVersion on obj is a precondition.
func (w *Writer) Update(ctx context.Context, obj objects.Object, o WriteOptions) (*Result, error) {
	return w.write(ctx, obj, o, modeUpdate)
}

// UpdateStatus replaces only the object's status. A resourceVersion on obj
// is a precondition.
func (w *Writer) UpdateStatus(ctx context.Context, obj objects.Object, o WriteOptions) (*Result, error) {
	return w.write(ctx, obj, o, modeStatus)
}

type mode int

const (
	modeApply mode = iota
	modeCreate
	modeUpdate
	modeStatus
)

func (w *Writer) write(ctx context.Context, in objects.Object, o WriteOptions, m mode) (*Result, error) {
	if o.Actor == "" {
		return nil, Errorf(ReasonBadRequest, "write without an actor")
	}
	base := deepCopy(in)
	k, err := w.prepare(base)
	if err != nil {
		return nil, err
	}
	ns, name := base.GetNamespace(), base.GetName()
	var warnings []string
	if m != modeStatus {
		warnings = objects.Warnings(base)
	}
	wantRV := base.GetResourceVersion()
	return w.retry(wantRV, func(attempt int) (*Result, error) {
		// The first try takes the current state from the live view when it
		// has the object (one round trip less); the append's expected
		// sequence catches a stale view. Anything decided on the view alone
		// — unchanged, or a refusal — is confirmed from the log.
		cur, fromView, err := w.readForWrite(ctx, k, ns, name, attempt == 0 && wantRV == "")
		if err != nil {
			return nil, err
		}
		if err := precondition(k, name, wantRV, cur); err != nil {
			return nil, err
		}
		obj := base
		done := func(*Result, error) {}
		var admissionWarnings []string // each attempt's own
		if m != modeStatus && w.admits(k) {
			obj = deepCopy(base) // admissions change it: each attempt starts afresh
			var stored objects.Object
			if cur.exists() {
				stored = cur.obj
			}
			if done, err = w.admit(WithAdmissionWarnings(ctx, &admissionWarnings), k, obj, stored, o.DryRun); err != nil {
				if fromView {
					return nil, errStale
				}
				return nil, err
			}
		}
		res, err := w.writeAttempt(ctx, k, obj, cur, fromView, m, o)
		done(res, err)
		if err != nil {
			return nil, err
		}
		res.Warnings = append(append([]string(nil), warnings...), admissionWarnings...)
		return res, nil
	})
}

// writeAttempt computes and appends one attempt's change.
func (w *Writer) writeAttempt(ctx context.Context, k *objects.Kind, obj objects.Object, cur *current, fromView bool, m mode, o WriteOptions) (*Result, error) {
	next, typ, err := w.next(k, obj, cur, m)
	if err != nil {
		if fromView {
			return nil, errStale
		}
		return nil, err
	}
	if next == nil {
		if fromView {
			return nil, errStale
		}
		return &Result{Outcome: Unchanged, Object: cur.obj, Seq: cur.seq}, nil
	}
	// An existing object's namespace exists (deleting a namespace
	// deletes its objects first), so only creations look it up.
	if typ == TypeCreated {
		if err := w.checkNamespace(ctx, k, obj.GetNamespace(), obj.GetName(), true); err != nil {
			return nil, err
		}
	}
	return w.append(ctx, k, next, typ, cur.seq, o)
}

// next computes the object to append given the current state, or nil when
// nothing would change.
func (w *Writer) next(k *objects.Kind, obj objects.Object, cur *current, m mode) (objects.Object, Type, error) {
	name := obj.GetName()
	if !cur.exists() {
		switch m {
		case modeUpdate, modeStatus:
			return nil, "", notFound(k, name)
		}
		next := deepCopy(obj)
		if m == modeApply {
			clearStatus(next)
		}
		now := metav1.NewTime(w.clock.Now().UTC().Truncate(time.Second))
		next.SetUID(types.UID(uuid.NewString()))
		next.SetCreationTimestamp(now)
		next.SetGeneration(1)
		next.SetDeletionTimestamp(nil)
		next.SetDeletionGracePeriodSeconds(nil)
		if m == modeApply {
			// Strom's own apply tracks no field ownership; managedFields
			// come from the Kubernetes API's field manager (create and
			// update), and are kept as part of the object.
			next.SetManagedFields(nil)
		}
		next.SetSelfLink("")
		objects.PrepareCreate(next)
		return next, TypeCreated, nil
	}
	if m == modeCreate {
		return nil, "", NewAlreadyExists(k, name)
	}
	if uid := obj.GetUID(); uid != "" && uid != cur.obj.GetUID() {
		return nil, "", NewConflict(k, name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, cur.obj.GetUID()), nil)
	}
	var next objects.Object
	typ := TypeUpdated
	if m == modeStatus {
		next = deepCopy(cur.obj)
		copyStatus(next, obj)
		typ = TypeStatusUpdated
	} else {
		next = deepCopy(obj)
		copyStatus(next, cur.obj)
		next.SetUID(cur.obj.GetUID())
		next.SetCreationTimestamp(cur.obj.GetCreationTimestamp())
		next.SetDeletionTimestamp(cur.obj.GetDeletionTimestamp())
		next.SetDeletionGracePeriodSeconds(cur.obj.GetDeletionGracePeriodSeconds())
		next.SetGeneration(cur.obj.GetGeneration())
		if m == modeApply || next.GetManagedFields() == nil {
			// As in Kubernetes, an update that leaves managedFields out
			// keeps them; Strom's own apply never sets them.
			next.SetManagedFields(cur.obj.GetManagedFields())
		}
		if m == modeApply {
			keepSystemMetadata(next, cur.obj)
		}
		objects.PrepareUpdate(next, cur.obj)
		if errs := objects.ValidateUpdate(next, cur.obj); len(errs) > 0 {
			return nil, "", NewInvalid(k, name, errs)
		}
		if !specEqual(next, cur.obj) {
			next.SetGeneration(cur.obj.GetGeneration() + 1)
		}
	}
	next.SetResourceVersion(cur.obj.GetResourceVersion())
	if objectEqual(next, cur.obj) {
		return nil, "", nil
	}
	if m != modeStatus && releasesHeld(cur.obj, next) {
		typ = TypeDeleted // its last finalizer gone, a held pod goes
	}
	return next, typ, nil
}

// systemAnnotation reports whether an annotation key is written by the
// cluster (controllers), not by users' manifests.
func systemAnnotation(key string) bool {
	domain, _, ok := strings.Cut(key, "/")
	if !ok {
		return false
	}
	return domain == "kubernetes.io" || strings.HasSuffix(domain, ".kubernetes.io") || domain == "strom.dev" || strings.HasSuffix(domain, ".strom.dev")
}

// keepSystemMetadata carries over what controllers wrote and a manifest
// does not mention: system annotations, owner references, finalizers.
func keepSystemMetadata(next, cur objects.Object) {
	ann := next.GetAnnotations()
	for k, v := range cur.GetAnnotations() {
		if _, set := ann[k]; !set && systemAnnotation(k) {
			if ann == nil {
				ann = map[string]string{}
			}
			ann[k] = v
		}
	}
	next.SetAnnotations(ann)
	if len(next.GetOwnerReferences()) == 0 {
		next.SetOwnerReferences(cur.GetOwnerReferences())
	}
	if len(next.GetFinalizers()) == 0 {
		next.SetFinalizers(cur.GetFinalizers())
	}
}

// append publishes one event, expecting the subject's last sequence to be
// expect (0: no event yet). A mismatch is a Conflict.
func (w *Writer) append(ctx context.Context, k *objects.Kind, obj objects.Object, typ Type, expect uint64, o WriteOptions) (*Result, error) {
	data, err := marshalStored(obj)
	if err != nil {
		return nil, err
	}
	ev := &Event{
		ID: nuid.Next(), Type: typ, Resource: k.Resource,
		Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: string(obj.GetUID()),
		Actor: o.Actor, Cause: o.Cause, Time: w.clock.Now().UTC(), Object: data,
	}
	indexFields(ev, obj)
	outcome := outcomeOf(typ)
	if o.DryRun {
		return &Result{Outcome: outcome, Object: obj}, nil
	}
	msg, err := EncodeMsg(ev, w.sealer)
	if err != nil {
		return nil, err
	}
	_, js := w.streamFor(msg.Subject)
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(expect))
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeWrongLastSequence || apiErr.ErrorCode == errCodeExpectedSequenceInFlight) {
			return nil, NewConflict(k, obj.GetName(), "", err)
		}
		return nil, fmt.Errorf("appending %s event for %s %s: %w", typ, k.Resource, ev.Key(), err)
	}
	if err := w.makeDurable(ctx, ack.Sequence); err != nil {
		return nil, err
	}
	obj.SetResourceVersion(ResourceVersion(ack.Sequence))
	return &Result{Outcome: outcome, Object: obj, Seq: ack.Sequence, EventID: ev.ID}, nil
}

// makeDurable waits until the append at seq is on stable storage, when the
// writer was configured to.
func (w *Writer) makeDurable(ctx context.Context, seq uint64) error {
	if w.durable == nil {
		return nil
	}
	if err := w.durable(ctx); err != nil {
		return fmt.Errorf("event %d was appended but not synced to disk, so it may not survive a power loss: %w", seq, err)
	}
	return nil
}

func outcomeOf(t Type) Outcome {
	switch t {
	case TypeCreated:
		return Created
	case TypeStatusUpdated:
		return StatusUpdated
	case TypeDeleted:
		return Deleted
	}
	return Configured
}

// JetStream API error codes the write path maps to Conflict.
const (
	errCodeWrongLastSequence        = 10071 // expected last subject sequence mismatch
	errCodeExpectedSequenceInFlight = 10164 // a conflicting publish is in flight (replicated streams)
)

// JetStream is the writer's JetStream context, for readers of raw history.
func (w *Writer) JetStream() jetstream.JetStream { return w.js }

// Sealer is the writer's payload sealer.
func (w *Writer) Sealer() *Sealer { return w.sealer }
