package filter

import "golang.org/x/net/bpf"

// The "expression rejects all packets" check mirrors what libpcap's
// optimizer can prove: a branch is decided when an edge dominating it
// tested the same packet field (same load, same mask) against a constant.
// Edges are threaded past decided branches until nothing changes; if the
// accepting return is then unreachable, the expression is refused, as
// libpcap refuses it. The analysis works on a copy of the edges and leaves
// the graph as it is.

// test identifies what a block compares: its statements (when they
// compute the accumulator from the packet alone, so that two blocks with
// the same statements compare the same value) and its jump.
type test struct {
	stmts string
	jmp   uint16
}

func testOf(b *block) (test, bool) {
	if b.kind != bkJump || !selfContained(b.stmts) {
		return test{}, false
	}
	key := make([]byte, 0, 8*len(b.stmts))
	for _, s := range b.stmts {
		key = append(key, byte(s.Op>>8), byte(s.Op), byte(s.K>>24), byte(s.K>>16), byte(s.K>>8), byte(s.K))
	}
	return test{stmts: string(key), jmp: b.op}, true
}

// selfContained reports whether the statements leave in A (and X) values
// that depend on the packet alone: every register or scratch slot they
// read, they wrote first.
func selfContained(stmts []bpf.RawInstruction) bool {
	if len(stmts) == 0 {
		return false
	}
	aSet, xSet := false, false
	var mem [memWords]bool
	for _, s := range stmts {
		switch s.Op & 0x07 {
		case clsLD:
			switch s.Op & 0xe0 {
			case modeIND:
				if !xSet {
					return false
				}
			case modeMEM:
				if s.K >= memWords || !mem[s.K] {
					return false
				}
			}
			aSet = true
		case clsLDX:
			if s.Op&0xe0 == modeMEM && (s.K >= memWords || !mem[s.K]) {
				return false
			}
			xSet = true
		case clsST:
			if !aSet || s.K >= memWords {
				return false
			}
			mem[s.K] = true
		case clsALU:
			if !aSet || (s.Op&srcX != 0 && !xSet) {
				return false
			}
		case clsMISC:
			if s.Op&0xf8 == miscTXA {
				if !xSet {
					return false
				}
				aSet = true
			} else {
				if !aSet {
					return false
				}
				xSet = true
			}
		default:
			return false
		}
	}
	return aSet
}

type edge struct {
	from *block
	br   int
}

// rejectsAll reports whether no packet can reach an accepting return once
// the branches libpcap's optimizer can decide are decided.
func rejectsAll(root *block) bool {
	succ := map[*block]*[2]*block{}
	var collect func(b *block)
	collect = func(b *block) {
		if b == nil || succ[b] != nil {
			return
		}
		s := b.succ
		succ[b] = &s
		collect(b.succ[0])
		if b.kind == bkJump {
			collect(b.succ[1])
		}
	}
	collect(root)
	nsucc := func(b *block) int {
		switch b.kind {
		case bkJump:
			return 2
		case bkConst:
			return 1
		}
		return 0
	}
	for round := 0; round < 1000; round++ {
		// Reachable blocks in topological order, with their in-edges.
		var topo []*block
		seen := map[*block]bool{}
		var visit func(b *block)
		visit = func(b *block) {
			if seen[b] {
				return
			}
			seen[b] = true
			for i := 0; i < nsucc(b); i++ {
				visit(succ[b][i])
			}
			topo = append(topo, b)
		}
		visit(root)
		for i, j := 0, len(topo)-1; i < j; i, j = i+1, j-1 {
			topo[i], topo[j] = topo[j], topo[i]
		}
		accept := false
		for _, b := range topo {
			if b.kind == bkRet && b.ret != 0 {
				accept = true
			}
		}
		if !accept {
			return true
		}
		in := map[*block][]edge{}
		for _, b := range topo {
			for i := 0; i < nsucc(b); i++ {
				in[succ[b][i]] = append(in[succ[b][i]], edge{b, i})
			}
		}
		// Immediate dominators on the DAG.
		depth := map[*block]int{root: 0}
		idom := map[*block]*block{}
		lca := func(a, b *block) *block {
			for a != b {
				if depth[a] < depth[b] {
					a, b = b, a
				}
				a = idom[a]
			}
			return a
		}
		for _, b := range topo[1:] {
			var d *block
			for _, e := range in[b] {
				if d == nil {
					d = e.from
				} else {
					d = lca(d, e.from)
				}
			}
			idom[b] = d
			depth[b] = depth[d] + 1
		}
		// decide returns where edge e really leads if its target's branch
		// is decided by a dominating edge, or nil.
		decide := func(e edge) *block {
			child := succ[e.from][e.br]
			switch {
			case child.kind == bkConst && len(child.stmts) == 0:
				return succ[child][0]
			case child.kind == bkJump && succ[child][0] == succ[child][1] && len(child.stmts) <= 2:
				if next := succ[child][0]; next.kind == bkRet || (len(next.stmts) > 0 && next.stmts[0].Op&0x07 == clsLD) {
					return next
				}
			}
			ct, ok := testOf(child)
			if !ok {
				return nil
			}
			fold := func(d edge) *block {
				dt, ok := testOf(d.from)
				if !ok || dt != ct {
					return nil
				}
				if d.from.k == child.k {
					return succ[child][d.br]
				}
				if d.br == 0 && ct.jmp == opJEQ|srcK {
					// Equal to one constant, so not to another.
					return succ[child][1]
				}
				return nil
			}
			if t := fold(e); t != nil {
				return t
			}
			for x := e.from; x != nil; x = idom[x] {
				if len(in[x]) == 1 {
					if t := fold(in[x][0]); t != nil {
						return t
					}
				}
			}
			return nil
		}
		// Like libpcap, thread each edge as far as it goes with the
		// dominators of this round (threading keeps them valid), blocks
		// nearest the returns first.
		changed := false
		for j := len(topo) - 1; j >= 0; j-- {
			b := topo[j]
			for i := 0; i < nsucc(b); i++ {
				for n := 0; n < len(topo); n++ {
					t := decide(edge{b, i})
					if t == nil {
						break
					}
					succ[b][i] = t
					changed = true
				}
			}
		}
		if !changed {
			return false
		}
	}
	return false
}
