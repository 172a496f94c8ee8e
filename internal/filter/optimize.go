package filter

// The optimizer rewrites the control-flow graph the way libpcap's does, so
// that programs have its size and, on packets shorter than some of the
// loads, its verdicts (removing a load removes its out-of-bounds check).
//
// It works on its own copy of the graph (oblock), in two rounds repeated
// until nothing changes:
//
//   - value numbering: every value the machine computes (a packet load, an
//     ALU result, a constant) gets a number, the same for the same
//     computation on the same inputs; a block knows the numbers in A, X and
//     the scratch slots on entry when all its predecessors agree. A
//     statement that puts into a register the value already there is
//     dropped, constants are folded, loads through X with a known X become
//     absolute loads, and a block whose statements change nothing is
//     emptied;
//   - peephole rewrites at the end of a block (a subtraction or a mask
//     merged into the comparison that follows) and removal of stores
//     nobody reads;
//   - jump threading: an edge to a block whose test was already decided on
//     every path to it (an edge dominating it tested the same value against
//     the same operand) goes directly to the block's decided successor, and
//     an edge to a block whose two successors are the same skips it;
//   - pull-ups: in a chain of "or" (or "and") tests, a test of the value
//     tested at the top of the chain is moved up next to it, so that the
//     two can be threaded.
//
// In the first round values are numbered without rewriting the statements
// they come from (peephole rewrites aside) and branches move; in the second
// statements are rewritten and branches stay. Then identical blocks are
// merged and the root loses tests whose outcomes go to the same place.

const (
	atomA    = memWords
	atomX    = memWords + 1
	nAtoms   = memWords + 2
	atomBoth = nAtoms // A and X both used

	codeNop = -1

	clsSTX = 0x03

	// optPassLimit bounds the passes that only move branches, which can
	// cycle; optMaxPasses bounds all passes (every pass leaves a correct
	// graph, so stopping early only costs size).
	optPassLimit = 100
	optMaxPasses = 2000
)

type ostmt struct {
	code int // codeNop once removed
	k    uint32
}

type oedge struct {
	code int // the jump's opcode; negated for the false edge
	// up is the nearest other edge on every path from the root to this
	// one (nil if none): the edges dominating this one are the chain up.
	up    *oedge
	depth int
	pred  *oblock
	succ  *oblock
}

type oblock struct {
	id     int
	stmts  []ostmt
	code   int // the final jump, or a return
	k      uint32
	et, ef oedge

	level   int
	levNext *oblock
	mark    int

	idom          *oblock // immediate dominator
	domDepth      int
	domKids       []*oblock
	domIn, domOut int // interval in a depth-first walk of the dominator tree

	def, kill, inUse, outUse uint32
	val                      [nAtoms]uint32
	oval                     uint32
	inEdges                  []*oedge // most recently linked last
}

func (b *oblock) isRet() bool { return b.code&0x07 == clsRET }

type valKey struct {
	code   int
	v0, v1 uint32
}

type valInfo struct {
	c       uint32
	isConst bool
}

// optError is an error the optimizer finds (a division by a zero it
// computed): libpcap reports it and compiles nothing.
type optError struct{ msg string }

type optimizer struct {
	blocks []*oblock
	root   *oblock
	levels []*oblock
	mark   int

	done      bool
	nonBranch bool

	vals   map[valKey]uint32
	vmap   []valInfo
	curval uint32
}

// optimize returns the optimized graph of root, or an error message for a
// program libpcap's optimizer refuses. Graphs it cannot represent
// (statements in blocks of constant outcome, as protochain makes, or a
// scratch slot out of range) are returned as they are.
func optimize(root *block) (out *block, errMsg string) {
	o, ok := newOptimizer(root)
	if !ok {
		return root, ""
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(optError)
			if !ok {
				panic(r)
			}
			out, errMsg = nil, e.msg
		}
	}()
	o.loop(false)
	o.loop(true)
	o.internBlocks()
	o.optRoot()
	return o.export(), ""
}

// newOptimizer copies the graph, numbering blocks in depth-first preorder
// (true branch first).
func newOptimizer(root *block) (*optimizer, bool) {
	o := &optimizer{}
	m := map[*block]*oblock{}
	var conv func(b *block) *oblock
	ok := true
	conv = func(b *block) *oblock {
		if ob, seen := m[b]; seen {
			return ob
		}
		ob := &oblock{id: len(o.blocks)}
		m[b] = ob
		o.blocks = append(o.blocks, ob)
		for _, s := range b.stmts {
			if usesMem(s.Op) && s.K >= memWords {
				ok = false
			}
			ob.stmts = append(ob.stmts, ostmt{code: int(s.Op), k: s.K})
		}
		switch b.kind {
		case bkRet:
			ob.code, ob.k = clsRET|srcK, b.ret
		case bkConst:
			if len(b.stmts) > 0 {
				ok = false
			}
			// libpcap's constant: A = 0, tested against 0.
			ob.stmts = []ostmt{{code: clsLD | modeIMM, k: 0}}
			ob.code, ob.k = clsJMP|opJEQ|srcK, 0
			t := conv(b.succ[0])
			ob.et.succ, ob.ef.succ = t, t
		case bkJump:
			ob.code, ob.k = int(clsJMP|b.op), b.k
			ob.et.succ = conv(b.succ[0])
			ob.ef.succ = conv(b.succ[1])
		}
		return ob
	}
	o.root = conv(root)
	if !ok {
		return nil, false
	}
	n := len(o.blocks)
	for _, b := range o.blocks {
		b.et.pred, b.ef.pred = b, b
	}
	o.levels = make([]*oblock, n)
	return o, true
}

// usesMem reports whether op reads or writes a scratch slot.
func usesMem(op uint16) bool {
	switch op & 0x07 {
	case clsLD, clsLDX:
		return op&0xe0 == modeMEM
	case clsST, clsSTX:
		return true
	}
	return false
}

func jt(b *oblock) *oblock { return b.et.succ }
func jf(b *oblock) *oblock { return b.ef.succ }

// export builds the graph of blocks again from the optimized copy.
func (o *optimizer) export() *block {
	m := map[*oblock]*block{}
	id := 0
	var conv func(ob *oblock) *block
	conv = func(ob *oblock) *block {
		if b, ok := m[ob]; ok {
			return b
		}
		b := &block{id: id}
		id++
		m[ob] = b
		for _, s := range ob.stmts {
			if s.code != codeNop {
				b.stmts = append(b.stmts, stmt(uint16(s.code), s.k))
			}
		}
		if ob.isRet() {
			b.kind, b.ret = bkRet, ob.k
			return b
		}
		b.kind, b.op, b.k = bkJump, uint16(ob.code&^0x07), ob.k
		b.succ[0] = conv(jt(ob))
		b.succ[1] = conv(jf(ob))
		return b
	}
	return conv(o.root)
}

// loop runs passes until one changes nothing, or until only branches have
// moved for optPassLimit passes in a row.
func (o *optimizer) loop(doStmts bool) {
	idle := 0
	for pass := 0; pass < optMaxPasses; pass++ {
		o.done = true
		o.nonBranch = false
		o.findLevels()
		o.findDom()
		o.findUD()
		o.findEdom()
		o.optBlocks(doStmts)
		if o.done {
			return
		}
		if o.nonBranch {
			idle = 0
		} else {
			idle++
			if idle >= optPassLimit {
				return
			}
		}
	}
}

// Graph analyses.

// findLevels gives each reachable block its height above the returns
// (level 0) and lists the blocks of each level.
func (o *optimizer) findLevels() {
	for i := range o.levels {
		o.levels[i] = nil
	}
	o.mark++
	var visit func(b *oblock)
	visit = func(b *oblock) {
		if b.mark == o.mark {
			return
		}
		b.mark = o.mark
		level := 0
		if t := jt(b); t != nil {
			visit(t)
			visit(jf(b))
			level = max(t.level, jf(b).level) + 1
		}
		b.level = level
		b.levNext = o.levels[level]
		o.levels[level] = b
	}
	visit(o.root)
}

// eachDown calls f for the reachable blocks from the root's level down to
// minLevel.
func (o *optimizer) eachDown(minLevel int, f func(b *oblock)) {
	for l := o.root.level; l >= minLevel; l-- {
		for b := o.levels[l]; b != nil; b = b.levNext {
			f(b)
		}
	}
}

// eachUp calls f for the reachable blocks from level 1 up to the root's.
func (o *optimizer) eachUp(f func(b *oblock)) {
	for l := 1; l <= o.root.level; l++ {
		for b := o.levels[l]; b != nil; b = b.levNext {
			f(b)
		}
	}
}

// findDom computes the dominator tree of the reachable blocks (returns
// aside): a block's immediate dominator is the nearest common dominator of
// its predecessors.
func (o *optimizer) findDom() {
	o.findInEdges()
	// Returns are left out: nothing asks what dominates them.
	o.eachDown(1, func(b *oblock) {
		if b == o.root {
			b.idom, b.domDepth = nil, 0
			return
		}
		var d *oblock
		for i, e := range b.inEdges {
			if i == 0 {
				d = e.pred
			} else {
				d = commonDom(d, e.pred)
			}
		}
		b.idom, b.domDepth = d, d.domDepth+1
	})
	// Number the tree in depth-first order: b dominates x when x's
	// interval lies within b's.
	o.eachDown(1, func(b *oblock) { b.domKids = b.domKids[:0] })
	o.eachDown(1, func(b *oblock) {
		if b.idom != nil {
			b.idom.domKids = append(b.idom.domKids, b)
		}
	})
	n := 0
	var number func(b *oblock)
	number = func(b *oblock) {
		n++
		b.domIn = n
		for _, c := range b.domKids {
			number(c)
		}
		n++
		b.domOut = n
	}
	number(o.root)
}

func commonDom(a, b *oblock) *oblock {
	for a != b {
		if a.domDepth < b.domDepth {
			a, b = b, a
		}
		a = a.idom
	}
	return a
}

// dominates reports whether every path from the root to x goes through b.
func dominates(b, x *oblock) bool {
	return b.domIn <= x.domIn && x.domOut <= b.domOut
}

// findEdom computes the edge-dominator tree: the edges out of a block are
// dominated by themselves and by the edges dominating every edge into it.
// It needs the in-edges of findDom.
func (o *optimizer) findEdom() {
	o.eachDown(1, func(b *oblock) {
		var up *oedge
		for i, e := range b.inEdges {
			if i == 0 {
				up = e
			} else if up = commonEdge(up, e); up == nil {
				break
			}
		}
		depth := 0
		if up != nil {
			depth = up.depth + 1
		}
		b.et.up, b.ef.up = up, up
		b.et.depth, b.ef.depth = depth, depth
	})
}

func commonEdge(a, b *oedge) *oedge {
	for a != nil && b != nil && a != b {
		switch {
		case a.depth > b.depth:
			a = a.up
		case b.depth > a.depth:
			b = b.up
		default:
			a, b = a.up, b.up
		}
	}
	if a != b {
		return nil
	}
	return a
}

// atomUse returns the register or scratch slot code reads, atomBoth for A
// and X, or -1.
func atomUse(code int, k uint32) int {
	if code == codeNop {
		return -1
	}
	switch code & 0x07 {
	case clsRET:
		switch code & 0x18 {
		case 0x10:
			return atomA
		case 0x08:
			return atomX
		}
		return -1
	case clsLD, clsLDX:
		switch code & 0xe0 {
		case modeIND:
			return atomX
		case modeMEM:
			return int(k)
		}
		return -1
	case clsST:
		return atomA
	case clsSTX:
		return atomX
	case clsJMP, clsALU:
		if code&srcX != 0 {
			return atomBoth
		}
		return atomA
	case clsMISC:
		if code&0xf8 == miscTXA {
			return atomX
		}
		return atomA
	}
	return -1
}

// atomDef returns the register or scratch slot code writes, or -1.
func atomDef(code int, k uint32) int {
	if code == codeNop {
		return -1
	}
	switch code & 0x07 {
	case clsLD, clsALU:
		return atomA
	case clsLDX:
		return atomX
	case clsST, clsSTX:
		return int(k)
	case clsMISC:
		if code&0xf8 == miscTAX {
			return atomX
		}
		return atomA
	}
	return -1
}

func (b *oblock) localUD() {
	var def, use, kill uint32
	addUse := func(a int) {
		switch {
		case a == atomBoth:
			if def&(1<<atomX) == 0 {
				use |= 1 << atomX
			}
			if def&(1<<atomA) == 0 {
				use |= 1 << atomA
			}
		case a >= 0 && a < nAtoms:
			if def&(1<<a) == 0 {
				use |= 1 << a
			}
		}
	}
	for _, s := range b.stmts {
		if s.code == codeNop {
			continue
		}
		addUse(atomUse(s.code, s.k))
		if a := atomDef(s.code, s.k); a >= 0 && a < nAtoms {
			if use&(1<<a) == 0 {
				kill |= 1 << a
			}
			def |= 1 << a
		}
	}
	if b.code&0x07 == clsJMP {
		addUse(atomUse(b.code, b.k))
	}
	b.def, b.kill, b.inUse = def, kill, use
}

// findUD computes which registers each block uses before defining them,
// including through its successors.
func (o *optimizer) findUD() {
	o.eachDown(0, func(b *oblock) {
		b.localUD()
		b.outUse = 0
	})
	o.eachUp(func(b *oblock) {
		b.outUse |= jt(b).inUse | jf(b).inUse
		b.inUse |= b.outUse &^ b.kill
	})
}

// Value numbering.

func (o *optimizer) initVal() {
	o.curval = 0
	if o.vals == nil {
		o.vals = map[valKey]uint32{}
	}
	clear(o.vals)
	o.vmap = o.vmap[:0]
	o.vmap = append(o.vmap, valInfo{})
}

// value returns the number of the value code computes from v0 and v1.
func (o *optimizer) value(code int, v0, v1 uint32) uint32 {
	key := valKey{code, v0, v1}
	if v, ok := o.vals[key]; ok {
		return v
	}
	o.curval++
	v := o.curval
	o.vals[key] = v
	info := valInfo{}
	if code&0xe0 == modeIMM && (code&0x07 == clsLD || code&0x07 == clsLDX) {
		info = valInfo{c: v0, isConst: true}
	}
	o.vmap = append(o.vmap, info)
	return v
}

func (o *optimizer) konst(k uint32) uint32 { return o.value(clsLD|modeIMM, k, 0) }

func (o *optimizer) isConst(v uint32) bool { return o.vmap[v].isConst }

func (o *optimizer) constOf(v uint32) uint32 { return o.vmap[v].c }

// store records v as the new value of *slot, or drops s if the slot
// already holds it.
func (o *optimizer) store(s *ostmt, slot *uint32, v uint32, alter bool) {
	if alter && v != 0 && *slot == v {
		s.code = codeNop
	} else {
		*slot = v
	}
}

func (o *optimizer) changed() {
	o.nonBranch = true
	o.done = false
}

func (o *optimizer) fail(msg string) { panic(optError{msg}) }

// foldOp replaces s, an ALU operation on two constants, by a load of its
// result.
func (o *optimizer) foldOp(s *ostmt, v0, v1 uint32) {
	a, b := o.constOf(v0), o.constOf(v1)
	switch s.code & 0xf0 {
	case aluAdd:
		a += b
	case aluSub:
		a -= b
	case aluMul:
		a *= b
	case aluDiv:
		if b == 0 {
			o.fail("division by zero")
		}
		a /= b
	case aluMod:
		if b == 0 {
			o.fail("modulus by zero")
		}
		a %= b
	case aluAnd:
		a &= b
	case aluOr:
		a |= b
	case aluXor:
		a ^= b
	case aluLsh:
		if b < 32 {
			a <<= b
		} else {
			a = 0
		}
	case aluRsh:
		if b < 32 {
			a >>= b
		} else {
			a = 0
		}
	default:
		return
	}
	s.k = a
	s.code = clsLD | modeIMM
	o.changed()
}

// optStmt numbers the value s computes, updating val, and with alter
// simplifies s.
func (o *optimizer) optStmt(s *ostmt, val *[nAtoms]uint32, alter bool) {
	code := s.code
	switch {
	case code == codeNop:
		return
	case code == clsLD|modeABS|sizeW, code == clsLD|modeABS|sizeH, code == clsLD|modeABS|sizeB:
		o.store(s, &val[atomA], o.value(code, s.k, 0), alter)
	case code == clsLD|modeIND|sizeW, code == clsLD|modeIND|sizeH, code == clsLD|modeIND|sizeB:
		x := val[atomX]
		var v uint32
		if alter && o.isConst(x) {
			s.code = clsLD | modeABS | (code & 0x18)
			s.k += o.constOf(x)
			v = o.value(s.code, s.k, 0)
			o.changed()
		} else {
			v = o.value(code, s.k, x)
		}
		o.store(s, &val[atomA], v, alter)
	case code == clsLD|modeLEN:
		o.store(s, &val[atomA], o.value(code, 0, 0), alter)
	case code == clsLD|modeIMM:
		o.store(s, &val[atomA], o.konst(s.k), alter)
	case code == clsLDX|modeIMM:
		o.store(s, &val[atomX], o.konst(s.k), alter)
	case code == clsLDX|modeMSH|sizeB:
		o.store(s, &val[atomX], o.value(code, s.k, 0), alter)
	case code == clsALU|aluNeg:
		if alter && o.isConst(val[atomA]) {
			s.code = clsLD | modeIMM
			s.k = -o.constOf(val[atomA])
			val[atomA] = o.konst(s.k)
		} else {
			val[atomA] = o.value(code, val[atomA], 0)
		}
	case code&0x07 == clsALU && code&srcX == 0:
		op := code & 0xf0
		if alter {
			if s.k == 0 {
				switch op {
				case aluAdd, aluLsh, aluRsh, aluOr, aluXor:
					s.code = codeNop
					return
				case aluMul, aluAnd:
					s.code = clsLD | modeIMM
					val[atomA] = o.konst(s.k)
					return
				case aluDiv:
					o.fail("division by zero")
				case aluMod:
					o.fail("modulus by zero")
				}
			}
			if o.isConst(val[atomA]) {
				o.foldOp(s, val[atomA], o.konst(s.k))
				val[atomA] = o.konst(s.k)
				return
			}
		}
		val[atomA] = o.value(code, val[atomA], o.konst(s.k))
	case code&0x07 == clsALU:
		op := code & 0xf0
		if alter && o.isConst(val[atomX]) {
			if o.isConst(val[atomA]) {
				o.foldOp(s, val[atomA], val[atomX])
				val[atomA] = o.konst(s.k)
			} else {
				s.code = clsALU | srcK | op
				s.k = o.constOf(val[atomX])
				if (op == aluLsh || op == aluRsh) && s.k > 31 {
					o.fail("shift by more than 31 bits")
				}
				o.changed()
				val[atomA] = o.value(s.code, val[atomA], o.konst(s.k))
			}
			return
		}
		if alter && o.isConst(val[atomA]) && o.constOf(val[atomA]) == 0 {
			switch op {
			case aluAdd, aluOr, aluXor:
				s.code = clsMISC | miscTXA
				o.store(s, &val[atomA], val[atomX], alter)
				return
			case aluMul, aluDiv, aluMod, aluAnd, aluLsh, aluRsh:
				s.code = clsLD | modeIMM
				s.k = 0
				o.store(s, &val[atomA], o.konst(s.k), alter)
				return
			}
		}
		val[atomA] = o.value(code, val[atomA], val[atomX])
	case code == clsMISC|miscTXA:
		o.store(s, &val[atomA], val[atomX], alter)
	case code == clsLD|modeMEM:
		v := val[s.k]
		if alter && o.isConst(v) {
			s.code = clsLD | modeIMM
			s.k = o.constOf(v)
			o.changed()
		}
		o.store(s, &val[atomA], v, alter)
	case code == clsMISC|miscTAX:
		o.store(s, &val[atomX], val[atomA], alter)
	case code == clsLDX|modeMEM:
		v := val[s.k]
		if alter && o.isConst(v) {
			s.code = clsLDX | modeIMM
			s.k = o.constOf(v)
			o.changed()
		}
		o.store(s, &val[atomX], v, alter)
	case code == clsST:
		o.store(s, &val[s.k], val[atomA], alter)
	case code == clsSTX:
		o.store(s, &val[s.k], val[atomX], alter)
	default:
		// Anything else gets a value of its own.
		if a := atomDef(code, s.k); a >= 0 && a < nAtoms {
			o.curval++
			o.vmap = append(o.vmap, valInfo{})
			val[a] = o.curval
		}
	}
}

// nextOp returns the index of the first statement from i on that is not
// removed, or -1.
func nextOp(stmts []ostmt, i int) int {
	for ; i < len(stmts); i++ {
		if stmts[i].code != codeNop {
			return i
		}
	}
	return -1
}

func (b *oblock) swapBranches() { b.et.succ, b.ef.succ = b.ef.succ, b.et.succ }

// optPeep applies the peephole rewrites to b.
func (o *optimizer) optPeep(b *oblock) {
	st := b.stmts
	if len(st) == 0 {
		return
	}
	last := 0
	for i := 0; ; {
		i = nextOp(st, i)
		if i < 0 {
			break
		}
		next := nextOp(st, i+1)
		if next < 0 {
			break
		}
		last = next
		s, n := &st[i], &st[next]
		// A store then a load of the same slot into X: copy A instead.
		if s.code == clsST && n.code == clsLDX|modeMEM && s.k == n.k {
			o.changed()
			n.code = clsMISC | miscTAX
		}
		// A constant into A copied to X: load X directly.
		if s.code == clsLD|modeIMM && n.code == clsMISC|miscTAX {
			s.code = clsLDX | modeIMM
			n.code = clsMISC | miscTXA
			o.changed()
		}
		// A constant added to X to index a load: fold it into the load's
		// offset, when X is not used after the block.
		if s.code == clsLD|modeIMM && b.outUse&(1<<atomX) == 0 {
			add := next
			if st[next].code == clsLDX|modeMSH|sizeB {
				add = nextOp(st, next+1)
			}
			if add >= 0 && st[add].code == clsALU|aluAdd|srcX {
				if tax := nextOp(st, add+1); tax >= 0 && st[tax].code == clsMISC|miscTAX {
					if ild := nextOp(st, tax+1); ild >= 0 && st[ild].code&0x07 == clsLD && st[ild].code&0xe0 == modeIND {
						st[ild].k += s.k
						s.code = codeNop
						st[add].code = codeNop
						st[tax].code = codeNop
						o.changed()
					}
				}
			}
		}
		i = next
	}
	if b.code == clsJMP|opJEQ|srcK && b.outUse&(1<<atomA) == 0 {
		l := &st[last]
		switch {
		case l.code == clsALU|aluSub|srcX:
			if x := b.val[atomX]; o.isConst(x) {
				b.k += o.constOf(x)
				l.code = codeNop
				o.changed()
			} else if b.k == 0 {
				l.code = codeNop
				b.code = clsJMP | opJEQ | srcX
				o.changed()
			}
		case l.code == clsALU|aluSub|srcK:
			l.code = codeNop
			b.k += l.k
			o.changed()
		case l.code == clsALU|aluAnd|srcK && b.k == 0:
			b.k = l.k
			b.code = clsJMP | opJSET | srcK
			l.code = codeNop
			o.changed()
			b.swapBranches()
		}
	}
	o.peepJump(b)
}

// peepJump decides b's jump when its operands are known constants.
func (o *optimizer) peepJump(b *oblock) {
	if b.code == clsJMP|opJSET|srcK {
		if b.k == 0 {
			b.et.succ = b.ef.succ
		}
		if b.k == 0xffffffff {
			b.ef.succ = b.et.succ
		}
	}
	if x := b.val[atomX]; o.isConst(x) && b.code&srcX != 0 {
		b.code &^= srcX
		b.k = o.constOf(x)
	}
	a := b.val[atomA]
	if !o.isConst(a) || b.code&srcX != 0 {
		return
	}
	v := o.constOf(a)
	var t bool
	switch b.code & 0xf0 {
	case opJEQ:
		t = v == b.k
	case opJGT:
		t = v > b.k
	case opJGE:
		t = v >= b.k
	case opJSET:
		t = v&b.k != 0
	default:
		return
	}
	if jf(b) != jt(b) {
		o.changed()
	}
	if t {
		b.ef.succ = b.et.succ
	} else {
		b.et.succ = b.ef.succ
	}
}

// optDeadstores removes statements whose result is overwritten before
// anything reads it, or is not read after the block.
func (o *optimizer) optDeadstores(b *oblock) {
	var last [nAtoms]*ostmt
	dead := func(code int, k uint32, s *ostmt) {
		switch a := atomUse(code, k); {
		case a == atomBoth:
			last[atomA], last[atomX] = nil, nil
		case a >= 0 && a < nAtoms:
			last[a] = nil
		}
		if a := atomDef(code, k); a >= 0 && a < nAtoms {
			if last[a] != nil {
				o.changed()
				last[a].code = codeNop
			}
			last[a] = s
		}
	}
	for i := range b.stmts {
		s := &b.stmts[i]
		dead(s.code, s.k, s)
	}
	dead(b.code, b.k, nil)
	for a := 0; a < nAtoms; a++ {
		if last[a] != nil && b.outUse&(1<<a) == 0 {
			last[a].code = codeNop
			o.changed()
		}
	}
}

func (o *optimizer) optBlk(b *oblock, doStmts bool) {
	if len(b.inEdges) == 0 {
		b.val = [nAtoms]uint32{}
	} else {
		n := len(b.inEdges)
		b.val = b.inEdges[n-1].pred.val
		for i := n - 2; i >= 0; i-- {
			p := b.inEdges[i].pred
			for a := range b.val {
				if b.val[a] != p.val[a] {
					b.val[a] = 0
				}
			}
		}
	}
	aval, xval := b.val[atomA], b.val[atomX]
	for i := range b.stmts {
		o.optStmt(&b.stmts[i], &b.val, doStmts)
	}
	if doStmts && ((b.outUse == 0 && aval != 0 && b.val[atomA] == aval && xval != 0 && b.val[atomX] == xval) || b.isRet()) {
		if len(b.stmts) != 0 {
			b.stmts = nil
			o.changed()
		}
	} else {
		o.optPeep(b)
		o.optDeadstores(b)
	}
	if b.code&srcX == 0 || b.isRet() {
		b.oval = o.konst(b.k)
	} else {
		b.oval = b.val[atomX]
	}
	b.et.code = b.code
	b.ef.code = -b.code
}

// useConflict reports whether a register read after succ holds another
// value at the end of b than at the end of succ.
func useConflict(b, succ *oblock) bool {
	use := succ.outUse
	for a := 0; a < nAtoms; a++ {
		if use&(1<<a) != 0 && b.val[a] != succ.val[a] {
			return true
		}
	}
	return false
}

// foldEdge returns the successor of child that a packet which went along
// e must take, or nil if e does not decide child's test.
func foldEdge(child *oblock, e *oedge) *oblock {
	code, sense := e.code, true
	if code < 0 {
		code, sense = -code, false
	}
	if child.code != code {
		return nil
	}
	// (An unknown A, number 0, is not known to be the same value.)
	if child.val[atomA] != e.pred.val[atomA] || child.val[atomA] == 0 {
		return nil
	}
	if child.oval == e.pred.oval {
		if sense {
			return jt(child)
		}
		return jf(child)
	}
	if sense && code == clsJMP|opJEQ|srcK {
		// A equals one constant, so not another.
		return jf(child)
	}
	return nil
}

// optJ threads e past blocks whose outcome is known on e.
func (o *optimizer) optJ(e *oedge) {
	if jt(e.succ) == nil {
		return
	}
	if jt(e.succ) == jf(e.succ) && !useConflict(e.pred, jt(e.succ)) {
		o.changed()
		e.succ = jt(e.succ)
	}
top:
	for d := e; d != nil; d = d.up {
		target := foldEdge(e.succ, d)
		if target != nil && !useConflict(e.pred, target) {
			o.done = false
			e.succ = target
			if jt(target) != nil {
				goto top
			}
			return
		}
	}
}

// pullup moves up a test in a chain of "or" tests (or "and" tests, with
// and set): the chain follows the false (true) branches of blocks whose
// true (false) branch goes where b's does.
func (o *optimizer) pullup(b *oblock, and bool) {
	if len(b.inEdges) == 0 {
		return
	}
	first := b.inEdges[len(b.inEdges)-1]
	val := first.pred.val[atomA]
	if val == 0 {
		return // not a value known to be tested again
	}
	for _, e := range b.inEdges {
		if e.pred.val[atomA] != val {
			return
		}
	}
	// chain and same select the edge followed down the chain and the one
	// that must lead where b's does.
	chain := func(x *oblock) **oblock {
		if and {
			return &x.et.succ
		}
		return &x.ef.succ
	}
	same := func(x *oblock) *oblock {
		if and {
			return jf(x)
		}
		return jt(x)
	}
	var diffp **oblock
	switch b {
	case jt(first.pred):
		diffp = &first.pred.et.succ
	case jf(first.pred):
		diffp = &first.pred.ef.succ
	default:
		return // moved by an earlier pull-up of this pass
	}
	atTop := true
	for {
		if *diffp == nil {
			return
		}
		if same(*diffp) != same(b) {
			return
		}
		if !dominates(b, *diffp) {
			return
		}
		if (*diffp).val[atomA] != val {
			break
		}
		diffp = chain(*diffp)
		atTop = false
	}
	samep := chain(*diffp)
	for {
		if *samep == nil {
			return
		}
		if same(*samep) != same(b) {
			return
		}
		if !dominates(b, *samep) {
			return
		}
		if (*samep).val[atomA] == val {
			break
		}
		samep = chain(*samep)
	}
	pull := *samep
	*samep = *chain(pull)
	*chain(pull) = *diffp
	if atTop {
		for _, e := range b.inEdges {
			if e.succ == b {
				e.succ = pull
			}
		}
	} else {
		*diffp = pull
	}
	o.done = false
}

func (o *optimizer) findInEdges() {
	for _, b := range o.blocks {
		b.inEdges = b.inEdges[:0]
	}
	o.eachDown(1, func(b *oblock) {
		jt(b).inEdges = append(jt(b).inEdges, &b.et)
		jf(b).inEdges = append(jf(b).inEdges, &b.ef)
	})
}

func (o *optimizer) optBlocks(doStmts bool) {
	o.initVal()
	o.findInEdges()
	o.eachDown(0, func(b *oblock) { o.optBlk(b, doStmts) })
	if doStmts {
		return
	}
	o.eachUp(func(b *oblock) {
		o.optJ(&b.et)
		o.optJ(&b.ef)
	})
	o.findInEdges()
	o.eachUp(func(b *oblock) {
		o.pullup(b, false)
		o.pullup(b, true)
	})
}

// internBlocks makes the blocks with the same statements, jump and
// successors one block, from the returns up, so that blocks which become
// the same once their successors are merged are merged too.
func (o *optimizer) internBlocks() {
	o.findLevels()
	type sig struct {
		code   int
		k      uint32
		jt, jf *oblock
		stmts  string
	}
	canon := map[sig]*oblock{}
	rep := map[*oblock]*oblock{}
	var key []byte
	for l := 0; l <= o.root.level; l++ {
		for b := o.levels[l]; b != nil; b = b.levNext {
			if t := jt(b); t != nil {
				b.et.succ = rep[t]
				b.ef.succ = rep[jf(b)]
			}
			key = key[:0]
			for _, s := range b.stmts {
				if s.code != codeNop {
					key = append(key, byte(s.code>>8), byte(s.code), byte(s.k>>24), byte(s.k>>16), byte(s.k>>8), byte(s.k))
				}
			}
			k := sig{b.code, b.k, jt(b), jf(b), string(key)}
			if c, ok := canon[k]; ok {
				rep[b] = c
			} else {
				canon[k] = b
				rep[b] = b
			}
		}
	}
	o.root = rep[o.root]
}

// optRoot skips tests at the root whose branches go to the same block,
// keeping the root's statements.
func (o *optimizer) optRoot() {
	s := o.root.stmts
	o.root.stmts = nil
	b := o.root
	for b.code&0x07 == clsJMP && jt(b) == jf(b) {
		b = jt(b)
	}
	b.stmts = append(append([]ostmt(nil), s...), b.stmts...)
	if b.isRet() {
		b.stmts = nil
	}
	o.root = b
}
