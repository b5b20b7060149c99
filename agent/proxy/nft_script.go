package proxy

import (
	"strings"

	"sigs.k8s.io/knftables"
)

// The nftables mode's transaction builder: a sync's operations collected
// in the order nft needs, then written into one knftables Transaction.

// nftOp is one operation of a transaction.
type nftOp struct {
	verb byte // 'a'dd, 'f'lush, 'd'elete
	obj  knftables.Object
}

// nftOps is a list of operations in order.
type nftOps []nftOp

func (o *nftOps) add(obj knftables.Object)   { *o = append(*o, nftOp{'a', obj}) }
func (o *nftOps) flush(obj knftables.Object) { *o = append(*o, nftOp{'f', obj}) }
func (o *nftOps) del(obj knftables.Object)   { *o = append(*o, nftOp{'d', obj}) }

// nftElems are the element changes of one map or set.
type nftElems struct {
	isMap bool
	elems []string // "key" or "key : value"
}

// nftScript collects one transaction in the order nft needs: flushes,
// element deletions, object deletions, declarations, rules, element
// additions.
type nftScript struct {
	prefix, flush, delObj, decl, rules nftOps
	adds, dels                         map[string]*nftElems // per map/set, in order
	addOrder, delOrder                 []string
}

func newNFTScript() *nftScript {
	return &nftScript{adds: map[string]*nftElems{}, dels: map[string]*nftElems{}}
}

func nftElem(m map[string]*nftElems, order *[]string, set string, isMap bool, elem string) {
	e, ok := m[set]
	if !ok {
		e = &nftElems{isMap: isMap}
		m[set] = e
		*order = append(*order, set)
	}
	e.elems = append(e.elems, elem)
}

// addElem adds a set element ("key") or a map element ("key : value").
func (s *nftScript) addElem(set string, isMap bool, elem string) {
	nftElem(s.adds, &s.addOrder, set, isMap, elem)
}

// delElem deletes the element with key from a set or map.
func (s *nftScript) delElem(set string, isMap bool, key string) {
	nftElem(s.dels, &s.delOrder, set, isMap, key)
}

func (s *nftScript) chainRules(c nftChain) {
	for _, r := range c.rules {
		s.rules.add(&knftables.Rule{Chain: c.name, Rule: r})
	}
}

// transaction assembles the operations into tx and returns how many it
// added; 0 means the sync changes nothing.
func (s *nftScript) transaction(tx *knftables.Transaction) int {
	n := 0
	ops := func(o nftOps) {
		for _, op := range o {
			switch op.verb {
			case 'a':
				tx.Add(op.obj)
			case 'f':
				tx.Flush(op.obj)
			default:
				tx.Delete(op.obj)
			}
		}
		n += len(o)
	}
	elems := func(del bool, order []string, m map[string]*nftElems) {
		for _, set := range order {
			e := m[set]
			for _, el := range e.elems {
				key, val, _ := strings.Cut(el, " : ")
				obj := &knftables.Element{Key: strings.Split(key, " . ")}
				if e.isMap {
					obj.Map = set
					if val != "" {
						obj.Value = strings.Split(val, " . ")
					}
				} else {
					obj.Set = set
				}
				if del {
					tx.Delete(obj)
				} else {
					tx.Add(obj)
				}
			}
			n += len(e.elems)
		}
	}
	ops(s.prefix)
	ops(s.flush)
	elems(true, s.delOrder, s.dels)
	ops(s.delObj)
	ops(s.decl)
	ops(s.rules)
	elems(false, s.addOrder, s.adds)
	return n
}
