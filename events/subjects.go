package events

import (
	"fmt"
	"strings"
)

// Stream and subject names. See docs/ARCHITECTURE.md, "Subjects".
const (
	// StreamName is the event log.
	StreamName = "STROM_EVENTS"
	// SubjectPrefix starts every event subject.
	SubjectPrefix = "strom.ev"
	// ClusterScope stands in the namespace token of cluster-scoped
	// objects; no namespace can be named "_".
	ClusterScope = "_"
)

// Subject is an object's subject: strom.ev.<resource>.<namespace>.<name>,
// with the namespace and name tokens encoded by EncodeToken.
func Subject(resource, namespace, name string) string {
	ns := ClusterScope
	if namespace != "" {
		ns = EncodeToken(namespace)
	}
	return SubjectPrefix + "." + resource + "." + ns + "." + EncodeToken(name)
}

// KindSubjects is the filter for every object of one resource, optionally
// in one namespace.
func KindSubjects(resource, namespace string) string {
	if namespace == "" {
		return SubjectPrefix + "." + resource + ".>"
	}
	return SubjectPrefix + "." + resource + "." + EncodeToken(namespace) + ".*"
}

// AllSubjects is the stream's subject filter.
const AllSubjects = SubjectPrefix + ".>"

// ParseSubject splits an event subject into resource, namespace and name.
func ParseSubject(subj string) (resource, namespace, name string, err error) {
	rest, ok := strings.CutPrefix(subj, SubjectPrefix+".")
	if !ok {
		return "", "", "", fmt.Errorf("subject %q is not an event subject", subj)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("subject %q: want %s.<resource>.<namespace>.<name>", subj, SubjectPrefix)
	}
	if parts[1] != ClusterScope {
		if namespace, err = DecodeToken(parts[1]); err != nil {
			return "", "", "", err
		}
	}
	if name, err = DecodeToken(parts[2]); err != nil {
		return "", "", "", err
	}
	return parts[0], namespace, name, nil
}

// EncodeToken makes s safe as one NATS subject token. Letters, digits and
// '-' stand for themselves; every other byte (the '.' of DNS subdomain
// names, '_', spaces, '*', '>') becomes '_' and two upper-case hex digits.
// The encoding is injective, so distinct names never share a subject.
func EncodeToken(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !tokenSafe(s[i]) {
			clean = false
			break
		}
	}
	if clean && s != "" {
		return s
	}
	if s == "" {
		return "_"
	}
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if tokenSafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// DecodeToken reverses EncodeToken.
func DecodeToken(t string) (string, error) {
	if t == "_" {
		return "", nil
	}
	if !strings.Contains(t, "_") {
		return t, nil
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] != '_' {
			b.WriteByte(t[i])
			continue
		}
		if i+2 >= len(t) {
			return "", fmt.Errorf("subject token %q: truncated escape", t)
		}
		hi, lo := unhex(t[i+1]), unhex(t[i+2])
		if hi < 0 || lo < 0 {
			return "", fmt.Errorf("subject token %q: bad escape", t)
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), nil
}

func tokenSafe(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
