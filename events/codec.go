package events

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// CodecVersion is the envelope format this build writes. Readers accept
// every version up to it; see DecodeMsg.
const CodecVersion = 1

// Envelope headers. The envelope travels in NATS headers so that
// `nats stream view` shows it readably and projections fold without
// parsing payloads. Header names are append-only like event types.
const (
	HeaderCodec     = "Strom-Codec"
	HeaderType      = "Strom-Type"
	HeaderUID       = "Strom-Uid"
	HeaderActor     = "Strom-Actor"
	HeaderCause     = "Strom-Cause"
	HeaderTime      = "Strom-Time"
	HeaderLabels    = "Strom-Labels"
	HeaderNode      = "Strom-Node"
	HeaderOwners    = "Strom-Owners"
	HeaderEnc       = "Strom-Enc"
	HeaderIgnorable = "Strom-Ignorable"
)

// EncodeMsg turns an event into the message to publish. Secret payloads
// are sealed with s before they reach the log; s may be nil only for
// other resources.
func EncodeMsg(e *Event, s *Sealer) (*nats.Msg, error) {
	h := nats.Header{}
	h.Set(HeaderCodec, strconv.Itoa(CodecVersion))
	h.Set(HeaderType, string(e.Type))
	h.Set(nats.MsgIdHdr, e.ID)
	if e.UID != "" {
		h.Set(HeaderUID, e.UID)
	}
	h.Set(HeaderActor, e.Actor)
	if e.Cause != "" {
		h.Set(HeaderCause, e.Cause)
	}
	h.Set(HeaderTime, e.Time.UTC().Format(time.RFC3339Nano))
	if len(e.Labels) > 0 {
		h.Set(HeaderLabels, encodeLabels(e.Labels))
	}
	if e.NodeName != "" {
		h.Set(HeaderNode, e.NodeName)
	}
	if len(e.Owners) > 0 {
		h.Set(HeaderOwners, strings.Join(e.Owners, ","))
	}
	if e.Ignorable {
		h.Set(HeaderIgnorable, "true")
	}
	data := e.Object
	if e.Resource == "secrets" {
		if s == nil {
			return nil, fmt.Errorf("encoding secret %s: no sealer configured", e.Key())
		}
		sealed, err := s.Seal(data)
		if err != nil {
			return nil, fmt.Errorf("sealing secret %s: %w", e.Key(), err)
		}
		data = sealed
		h.Set(HeaderEnc, SealAlgorithm)
	}
	return &nats.Msg{Subject: e.Subject(), Header: h, Data: data}, nil
}

// ErrIgnored is returned by DecodeMsg for an ignorable event of a type this
// build does not know; callers skip it.
var ErrIgnored = fmt.Errorf("ignorable event of an unknown type")

// DecodeMsg reads an event back from a stream message. Sealed payloads are
// opened with s; with a nil s they are left sealed and Object is nil.
func DecodeMsg(subject string, h nats.Header, data []byte, seq uint64, stamp time.Time, s *Sealer) (*Event, error) {
	env, err := DecodeEnvelope(subject, h, seq)
	if err != nil && !errors.Is(err, ErrIgnored) {
		return nil, err
	}
	res, ns, name, perr := ParseSubject(subject)
	if perr != nil {
		return nil, fmt.Errorf("event #%d: %w", seq, perr)
	}
	e := &Event{
		Seq: seq, Stamp: stamp, Resource: res, Namespace: ns, Name: name,
		ID: env.ID, Type: env.Type, UID: env.UID, Actor: env.Actor, Cause: env.Cause,
		NodeName: env.NodeName, Ignorable: env.Ignorable, Time: env.Time,
	}
	if err != nil {
		return e, err // ErrIgnored
	}
	if env.Labels != "" {
		e.Labels = DecodeLabels(env.Labels)
	}
	if env.Owners != "" {
		e.Owners = strings.Split(env.Owners, ",")
	}
	switch env.Enc {
	case "":
		e.Object = data
	case SealAlgorithm:
		if s != nil {
			if e.Object, err = s.Open(data); err != nil {
				return nil, fmt.Errorf("event #%d on %s: %w", seq, subject, err)
			}
		}
	}
	return e, nil
}

// headerGetter is a message's headers: a nats.Header, or a
// logfile.Record read from an export.
type headerGetter interface{ Get(string) string }

// Envelope is an event's headers as read from a message: everything but
// the subject's parts and the payload, with labels and owners as written.
type Envelope struct {
	ID, UID, Actor, Cause, NodeName string
	Type                            Type
	Time                            time.Time
	Labels, Owners                  string // the Strom-Labels and Strom-Owners headers
	Enc                             string // "" or SealAlgorithm
	Ignorable                       bool
}

// DecodeEnvelope reads and checks a message's headers (subject and seq
// only name it in errors). An event of an unknown type marked ignorable
// returns its envelope so far and ErrIgnored.
func DecodeEnvelope(subject string, h headerGetter, seq uint64) (Envelope, error) {
	var env Envelope
	codec := h.Get(HeaderCodec)
	v, err := strconv.Atoi(codec)
	if err != nil || v < 1 {
		return env, fmt.Errorf("event #%d on %s: missing or bad %s header %q", seq, subject, HeaderCodec, codec)
	}
	if v > CodecVersion {
		return env, fmt.Errorf("event #%d on %s: codec version %d was written by a newer Strom (this one reads up to %d)", seq, subject, v, CodecVersion)
	}
	env.ID, env.Type, env.UID = h.Get(nats.MsgIdHdr), Type(h.Get(HeaderType)), h.Get(HeaderUID)
	env.Actor, env.Cause, env.NodeName = h.Get(HeaderActor), h.Get(HeaderCause), h.Get(HeaderNode)
	env.Ignorable = h.Get(HeaderIgnorable) == "true"
	if !knownTypes[env.Type] {
		if env.Ignorable {
			return env, ErrIgnored
		}
		return env, fmt.Errorf("event #%d on %s: unknown event type %q (not marked ignorable)", seq, subject, env.Type)
	}
	if t := h.Get(HeaderTime); t != "" {
		if env.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
			return env, fmt.Errorf("event #%d on %s: bad %s: %w", seq, subject, HeaderTime, err)
		}
	}
	env.Labels, env.Owners = h.Get(HeaderLabels), h.Get(HeaderOwners)
	switch env.Enc = h.Get(HeaderEnc); env.Enc {
	case "", SealAlgorithm:
	default:
		return env, fmt.Errorf("event #%d on %s: unknown payload encryption %q", seq, subject, env.Enc)
	}
	return env, nil
}

// Label keys and values cannot hold ',' or '=' (validation ensures it),
// so "k=v,k2=v2" is unambiguous.
func encodeLabels(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(l[k])
	}
	return b.String()
}

// DecodeLabels reads a Strom-Labels header value (see encodeLabels).
func DecodeLabels(s string) map[string]string {
	out := make(map[string]string, strings.Count(s, ",")+1)
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}
