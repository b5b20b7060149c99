package objects

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// MaxObjectBytes is the largest object the log accepts, as JSON.
const MaxObjectBytes = 1 << 20

// Manifest is one decoded document of a manifest file.
type Manifest struct {
	Object Object
	Kind   *Kind
	Source string // "file.yaml#2": where it came from, for messages
}

// typeMeta is read first to learn which Go type to decode into.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// Decode turns one JSON or YAML document into a typed object. It is strict:
// an unknown or duplicated field is an error naming its path, because a
// field dropped silently is a setting the user believes in but never gets.
func Decode(doc []byte) (Object, *Kind, error) {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("malformed YAML: %w", err)
	}
	return DecodeJSON(data)
}

// DecodeJSON is Decode for a document already in JSON.
func DecodeJSON(data []byte) (Object, *Kind, error) {
	if len(data) > MaxObjectBytes {
		return nil, nil, fmt.Errorf("object is %d bytes, over the limit of %d bytes (1 MiB)", len(data), MaxObjectBytes)
	}
	var tm typeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return nil, nil, fmt.Errorf("malformed object: %w", err)
	}
	if tm.Kind == "" {
		return nil, nil, errors.New("kind: Required value")
	}
	if tm.APIVersion == "" {
		return nil, nil, errors.New("apiVersion: Required value")
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return nil, nil, fmt.Errorf("apiVersion: Invalid value: %q", tm.APIVersion)
	}
	k := ByGVK(gv.WithKind(tm.Kind))
	if k == nil {
		if kk := ByKind(tm.Kind); kk != nil {
			return nil, nil, fmt.Errorf("no kind %q is registered for version %q (use apiVersion %q)", tm.Kind, tm.APIVersion, kk.APIVersion())
		}
		return nil, nil, fmt.Errorf("no kind %q is registered for version %q", tm.Kind, tm.APIVersion)
	}
	obj := k.New()
	strictErrs, err := sigsjson.UnmarshalStrict(data, obj, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return nil, nil, fmt.Errorf("decoding %s: %w", k.Kind, err)
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return nil, nil, fmt.Errorf("%s: %s", k.Kind, strings.Join(msgs, "; "))
	}
	obj.GetObjectKind().SetGroupVersionKind(k.GVK())
	return obj, k, nil
}

// DecodeStored decodes an object read back from the log. It is lenient
// about unknown fields, so that a log written by a newer Strom still reads.
func DecodeStored(k *Kind, data []byte) (Object, error) {
	obj := k.New()
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, fmt.Errorf("decoding stored %s: %w", k.Kind, err)
	}
	obj.GetObjectKind().SetGroupVersionKind(k.GVK())
	return obj, nil
}

// DecodeManifests reads a stream of documents: multi-document YAML
// separated by "---", a JSON object, a JSON array, or a kind: List whose
// items are expanded. source names the stream in messages.
func DecodeManifests(r io.Reader, source string) ([]Manifest, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	trimmed := bytes.TrimLeftFunc(head, unicode.IsSpace)
	var docs [][]byte
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{') {
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, fmt.Errorf("%s: reading: %w", source, err)
		}
		docs, err = jsonDocuments(data)
		switch {
		case err == nil:
		case trimmed[0] == '{' && errors.As(err, new(*firstValueError)):
			// A YAML flow mapping ({kind: Pod, ...}) is YAML, not JSON.
			if docs, err = yamlDocuments(bufio.NewReader(bytes.NewReader(data)), source); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: %w", source, err)
		}
	} else {
		var err error
		if docs, err = yamlDocuments(br, source); err != nil {
			return nil, err
		}
	}
	var out []Manifest
	for i, doc := range docs {
		where := fmt.Sprintf("%s (document %d)", source, i+1)
		items, err := expandList(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for _, item := range items {
			obj, k, err := Decode(item)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			out = append(out, Manifest{Object: obj, Kind: k, Source: where})
		}
	}
	return out, nil
}

// firstValueError: the stream's first value is not JSON at all (it may
// be YAML).
type firstValueError struct{ err error }

func (e *firstValueError) Error() string { return "malformed JSON at byte 1: " + e.err.Error() }

// jsonDocuments splits a JSON stream into documents: one or more
// objects or arrays of objects, one after another as kubectl accepts
// them. Anything that does not decode in full, such as trailing garbage,
// is an error naming the byte where it starts.
func jsonDocuments(data []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs [][]byte
	for n := 0; ; n++ {
		start := dec.InputOffset()
		var v json.RawMessage
		err := dec.Decode(&v)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			if n == 0 {
				return nil, &firstValueError{err}
			}
			at := start + int64(len(data[start:])-len(bytes.TrimLeftFunc(data[start:], unicode.IsSpace)))
			return nil, fmt.Errorf("malformed JSON at byte %d (after %d document(s)): %v", at+1, n, err)
		}
		switch bytes.TrimSpace(v)[0] {
		case '[':
			var arr []json.RawMessage
			if err := json.Unmarshal(v, &arr); err != nil {
				return nil, fmt.Errorf("malformed JSON array at byte %d: %w", start+1, err)
			}
			for _, a := range arr {
				docs = append(docs, a)
			}
		case '{':
			docs = append(docs, v)
		default:
			return nil, fmt.Errorf("malformed JSON at byte %d: want an object or an array of objects, got %.20s", start+1, bytes.TrimSpace(v))
		}
	}
}

// yamlDocuments splits multi-document YAML at "---", skipping empty
// documents.
func yamlDocuments(br *bufio.Reader, source string) ([][]byte, error) {
	var docs [][]byte
	yr := utilyaml.NewYAMLReader(br)
	for {
		doc, err := yr.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading document: %w", source, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		docs = append(docs, doc)
	}
}

// expandList returns the items of a kind: List document, or the document.
func expandList(doc []byte) ([][]byte, error) {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("malformed YAML: %w", err)
	}
	var tm typeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return nil, fmt.Errorf("malformed document: %w", err)
	}
	if tm.Kind != "List" && !strings.HasSuffix(tm.Kind, "List") || ByKind(tm.Kind) != nil {
		return [][]byte{data}, nil
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("malformed %s: %w", tm.Kind, err)
	}
	out := make([][]byte, len(list.Items))
	for i, it := range list.Items {
		out[i] = it
	}
	return out, nil
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] == '#' {
			continue
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
