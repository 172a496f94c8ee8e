package filter

import "golang.org/x/net/bpf"

// value is a computed arithmetic value: statements that leave it in
// scratch slot reg, and the protocol checks (b) that must hold for the
// computation to make sense ("tcp[0]" needs a first-fragment TCP packet).
type value struct {
	stmts []bpf.RawInstruction
	reg   uint32
	b     *frag
}

func andOpt(a *frag, b frag) *frag {
	if a == nil {
		return &b
	}
	x := and(*a, b)
	return &x
}

// constValue evaluates a constant arithmetic expression.
func constValue(a arith) (uint32, bool) {
	switch a := a.(type) {
	case *aNum:
		return a.v, true
	case *aNeg:
		v, ok := constValue(a.x)
		return -v, ok
	case *aBin:
		l, ok1 := constValue(a.l)
		r, ok2 := constValue(a.r)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch a.op {
		case aluAdd:
			return l + r, true
		case aluSub:
			return l - r, true
		case aluMul:
			return l * r, true
		case aluDiv:
			if r == 0 {
				return 0, false
			}
			return l / r, true
		case aluMod:
			if r == 0 {
				return 0, false
			}
			return l % r, true
		case aluAnd:
			return l & r, true
		case aluOr:
			return l | r, true
		case aluXor:
			return l ^ r, true
		case aluLsh:
			if r > 31 {
				return 0, true
			}
			return l << r, true
		case aluRsh:
			if r > 31 {
				return 0, true
			}
			return l >> r, true
		}
	}
	return 0, false
}

func (g *gen) arith(a arith) value {
	switch a := a.(type) {
	case *aNum:
		r := g.allocReg()
		return value{stmts: []bpf.RawInstruction{stmt(clsLD|modeIMM, a.v), stmt(clsST, r)}, reg: r}
	case *aLen:
		r := g.allocReg()
		return value{stmts: []bpf.RawInstruction{stmt(clsLD|modeLEN|sizeW, 0), stmt(clsST, r)}, reg: r}
	case *aNeg:
		v := g.arith(a.x)
		v.stmts = append(v.stmts, stmt(clsLD|modeMEM, v.reg), stmt(clsALU|aluNeg, 0), stmt(clsST, v.reg))
		return v
	case *aBin:
		g.pos = a.pos
		if (a.op == aluDiv || a.op == aluMod) && leftmostZero(a.r) {
			// libpcap refuses a divisor whose code starts by loading the
			// constant 0: a literal 0, but also "0 - len" or "ether[0]".
			if a.op == aluDiv {
				g.fail("division by zero")
			}
			g.fail("modulus by zero")
		}
		if rv, ok := constValue(a.r); ok {
			// libpcap's optimizer folds a constant divisor of 0 and
			// refuses it (unless it finds the comparison unreachable
			// first, which this compiler does not try to predict).
			switch {
			case a.op == aluDiv && rv == 0:
				g.fail("division by zero")
			case a.op == aluMod && rv == 0:
				g.fail("modulus by zero")
			case (a.op == aluLsh || a.op == aluRsh) && rv > 31:
				// libpcap's optimizer folds a shift of a constant, and
				// refuses a constant shift of anything else.
				if _, lconst := constValue(a.l); !lconst && !hasNeg(a.r) {
					g.fail("shift by more than 31 bits")
				}
			}
		}
		l := g.arith(a.l)
		r := g.arith(a.r)
		s := append(l.stmts, r.stmts...)
		s = append(s, stmt(clsLDX|modeMEM, r.reg), stmt(clsLD|modeMEM, l.reg), stmt(clsALU|a.op|srcX, 0))
		g.freeReg(l.reg)
		g.freeReg(r.reg)
		reg := g.allocReg()
		s = append(s, stmt(clsST, reg))
		// libpcap keeps the protocol checks of the left operand only: those
		// of the right one are dropped ("1 + udp[0]" loads without checking
		// for UDP).
		return value{stmts: s, reg: reg, b: l.b}
	case *aLoad:
		return g.load(a)
	}
	panic("filter: unknown arithmetic node")
}

// load is proto[idx:size].
func (g *gen) load(a *aLoad) value {
	idx := g.arith(a.idx)
	g.pos = a.pos
	size := sizeCode(a.size)
	s := idx.stmts
	b := idx.b
	switch kw(a.proto) {
	case kwLink:
		s = append(s, loadIndexed(g.hdr(0), idx.reg, size)...)
	case kwIP, kwArp, kwRarp, kwAtalk, kwDecnet, kwSca, kwLat, kwMoprc, kwMopdl, kwIP6:
		s = append(s, loadIndexed(g.nl(0), idx.reg, size)...)
		b = andOpt(b, g.protoAbbrev(a.proto))
	case kwSCTP, kwTCP, kwUDP, kwICMP, kwIGMP, kwIGRP, kwPIM, kwVRRP, kwCARP:
		s = append(s, g.loadIPHdrLen()...)
		s = append(s, stmt(clsLD|modeMEM, idx.reg), stmt(clsALU|aluAdd|srcX, 0),
			stmt(clsMISC|miscTAX, 0), stmt(clsLD|modeIND|size, g.nl(0).k))
		pb := and(g.protoAbbrev(a.proto), g.ipFrag())
		if b != nil {
			pb = and(*b, pb)
		}
		pb = and(g.protoAbbrev(int(kwIP)), pb)
		b = &pb
	case kwICMP6:
		b = andOpt(b, g.protoAbbrev(int(kwIP6)))
		b = andOpt(b, g.cmp(g.nl(6), 1, ipprotoICMPv6))
		s = append(s, loadIndexed(g.nl(40), idx.reg, size)...)
	default:
		g.fail("unsupported index operation on %q", protoName(a.proto))
	}
	g.freeReg(idx.reg)
	reg := g.allocReg()
	s = append(s, stmt(clsST, reg))
	return value{stmts: s, reg: reg, b: b}
}

// relation is "l op r".
func (g *gen) relation(n *nRel) frag {
	// A comparison of constants is decided now where libpcap's optimizer
	// decides it: a comparison of two numbers, or a whole expression that
	// is a constant comparison. (Elsewhere, that optimizer folds the
	// arithmetic too late to take the branch away.)
	_, lnum := n.l.(*aNum)
	_, rnum := n.r.(*aNum)
	if l, ok := constValue(n.l); ok && ((lnum && rnum) || node(n) == g.root) {
		if r, ok := constValue(n.r); ok {
			g.pos = n.pos
			// Generate them anyway for their errors (division by zero ...).
			g.freeReg(g.arith(n.l).reg)
			g.freeReg(g.arith(n.r).reg)
			var v bool
			switch n.op {
			case opJEQ:
				v = l == r
			case opJGT:
				v = l > r
			case opJGE:
				v = l >= r
			}
			return g.constant(v != n.rev)
		}
	}
	l := g.arith(n.l)
	r := g.arith(n.r)
	s := append(l.stmts, r.stmts...)
	s = append(s, stmt(clsLDX|modeMEM, r.reg), stmt(clsLD|modeMEM, l.reg))
	b := g.jump(s, n.op|srcX, 0)
	if n.rev {
		b = not(b)
	}
	g.freeReg(l.reg)
	g.freeReg(r.reg)
	var tmp *frag
	if l.b != nil {
		tmp = l.b
		if r.b != nil {
			tmp = andOpt(tmp, *r.b)
		}
	} else {
		tmp = r.b
	}
	if tmp != nil {
		return and(*tmp, b)
	}
	return b
}

// leftmostZero reports whether the code for a starts with loading the
// constant 0.
func leftmostZero(a arith) bool {
	switch a := a.(type) {
	case *aNum:
		return a.v == 0
	case *aNeg:
		return leftmostZero(a.x)
	case *aBin:
		return leftmostZero(a.l)
	case *aLoad:
		return leftmostZero(a.idx)
	}
	return false
}

func hasNeg(a arith) bool {
	switch a := a.(type) {
	case *aNeg:
		return true
	case *aBin:
		return hasNeg(a.l) || hasNeg(a.r)
	}
	return false
}
