package filter

import "golang.org/x/net/bpf"

// order lists the blocks reachable from root in reverse postorder (every
// edge goes forward), the return blocks last.
func order(root *block) []*block {
	var post []*block
	var rets []*block
	seen := map[*block]bool{}
	var visit func(b *block)
	visit = func(b *block) {
		if b == nil || seen[b] {
			return
		}
		seen[b] = true
		if b.kind == bkRet {
			rets = append(rets, b)
			return
		}
		if b.kind == bkJump {
			// Visit the false branch first so that the true branch tends
			// to follow the jump directly.
			visit(b.succ[1])
		}
		visit(b.succ[0])
		post = append(post, b)
	}
	visit(root)
	out := make([]*block, 0, len(post)+len(rets))
	for i := len(post) - 1; i >= 0; i-- {
		out = append(out, post[i])
	}
	// Accept before reject, as libpcap lays them out.
	for i := len(rets) - 1; i >= 0; i-- {
		if rets[i].ret != 0 {
			out = append(out, rets[i])
		}
	}
	for i := len(rets) - 1; i >= 0; i-- {
		if rets[i].ret == 0 {
			out = append(out, rets[i])
		}
	}
	return out
}

// linearize lays the blocks out as a BPF program. Conditional jumps reach
// at most 255 instructions ahead; a farther target goes through an
// unconditional jump ("ja") placed right after the conditional one.
func linearize(root *block) []bpf.RawInstruction {
	blocks := order(root)
	index := make(map[*block]int, len(blocks))
	for i, b := range blocks {
		index[b] = i
	}
	next := func(i int) *block {
		if i+1 < len(blocks) {
			return blocks[i+1]
		}
		return nil
	}
	far := make([][2]bool, len(blocks)) // trampoline needed for true/false
	start := make([]int, len(blocks)+1)
	size := func(i int) int {
		b := blocks[i]
		n := len(b.stmts)
		switch b.kind {
		case bkRet:
			n++
		case bkConst:
			if b.succ[0] != next(i) {
				n++
			}
		case bkJump:
			n++
			if far[i][0] {
				n++
			}
			if far[i][1] {
				n++
			}
		}
		return n
	}
	for {
		for i := range blocks {
			start[i+1] = start[i] + size(i)
		}
		changed := false
		for i, b := range blocks {
			if b.kind != bkJump {
				continue
			}
			jpos := start[i] + len(b.stmts)
			for br := 0; br < 2; br++ {
				if !far[i][br] && start[index[b.succ[br]]]-(jpos+1) > 255 {
					far[i][br] = true
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	prog := make([]bpf.RawInstruction, 0, start[len(blocks)])
	for i, b := range blocks {
		prog = append(prog, b.stmts...)
		switch b.kind {
		case bkRet:
			prog = append(prog, stmt(clsRET|srcK, b.ret))
		case bkConst:
			if b.succ[0] != next(i) {
				pos := len(prog)
				prog = append(prog, stmt(clsJMP|opJA, uint32(start[index[b.succ[0]]]-(pos+1))))
			}
		case bkJump:
			pos := len(prog)
			ins := stmt(clsJMP|b.op, b.k)
			tramp := pos + 1
			var jumps []bpf.RawInstruction
			for br := 0; br < 2; br++ {
				target := start[index[b.succ[br]]]
				var off int
				if far[i][br] {
					off = tramp - (pos + 1)
					jumps = append(jumps, stmt(clsJMP|opJA, uint32(target-(tramp+1))))
					tramp++
				} else {
					off = target - (pos + 1)
				}
				if br == 0 {
					ins.Jt = uint8(off)
				} else {
					ins.Jf = uint8(off)
				}
			}
			prog = append(prog, ins)
			prog = append(prog, jumps...)
		}
	}
	return prog
}
