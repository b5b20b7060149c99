package job

import (
	"sort"
	"strconv"
	"strings"
)

// indexSet is a set of completion indexes.
type indexSet map[int]bool

// parseIndexes reads Kubernetes' compressed interval format ("1,3-5,7"),
// keeping only indexes below limit (limit < 0: no limit). Malformed parts
// are skipped, as the Job controller does.
func parseIndexes(s string, limit int) indexSet {
	out := indexSet{}
	if s == "" {
		return out
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				continue
			}
		}
		for i := a; i <= b && (limit < 0 || i < limit); i++ {
			out[i] = true
		}
	}
	return out
}

// sorted returns the indexes in increasing order.
func (s indexSet) sorted() []int {
	out := make([]int, 0, len(s))
	for i := range s {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// String formats the set in the compressed interval format: runs of two
// or more consecutive indexes as "a-b".
func (s indexSet) String() string {
	ix := s.sorted()
	var b strings.Builder
	for i := 0; i < len(ix); {
		j := i
		for j+1 < len(ix) && ix[j+1] == ix[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ix[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(ix[j]))
		}
		i = j + 1
	}
	return b.String()
}
