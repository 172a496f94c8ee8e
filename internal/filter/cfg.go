package filter

import "golang.org/x/net/bpf"

// Classic BPF opcode fields.
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	aluAdd = 0x00
	aluSub = 0x10
	aluMul = 0x20
	aluDiv = 0x30
	aluOr  = 0x40
	aluAnd = 0x50
	aluLsh = 0x60
	aluRsh = 0x70
	aluNeg = 0x80
	aluMod = 0x90
	aluXor = 0xa0

	opJA   = 0x00
	opJEQ  = 0x10
	opJGT  = 0x20
	opJGE  = 0x30
	opJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	miscTAX = 0x00
	miscTXA = 0x80

	// ancillaryBase is SKF_AD_OFF: loads at ancillaryBase+n read packet
	// metadata on Linux.
	ancillaryBase = 0xfffff000
	adPktType     = 4
	adIfIndex     = 8
)

// memWords is the number of scratch memory slots (BPF_MEMWORDS).
const memWords = 16

func sizeCode(n int) uint16 {
	switch n {
	case 1:
		return sizeB
	case 2:
		return sizeH
	}
	return sizeW
}

func stmt(op uint16, k uint32) bpf.RawInstruction { return bpf.RawInstruction{Op: op, K: k} }

// blockKind says how a block ends.
type blockKind int

const (
	bkJump  blockKind = iota // a conditional jump: succ[0] if true, succ[1] if false
	bkConst                  // a predicate known when compiled: always goes to succ[0]
	bkRet                    // returns ret
)

// block is a basic block of the control-flow graph: straight-line
// statements, then a conditional jump on the accumulator, a constant
// outcome, or a return. Blocks form a DAG (a later optimizer pass can fold
// constants, thread jumps on known predicates and merge blocks on it).
type block struct {
	id    int
	stmts []bpf.RawInstruction
	kind  blockKind
	op    uint16 // jump condition: opJEQ/opJGT/opJGE/opJSET | srcK/srcX
	k     uint32
	ret   uint32
	succ  [2]*block
}

// exit is an unresolved edge: branch br of block b.
type exit struct {
	b  *block
	br int
}

// frag is a predicate under construction: an entry block and the edges
// still to be wired to whatever follows when it is true or false, as
// libpcap's code generator does with backpatching.
type frag struct {
	entry *block
	t, f  []exit
}

func patch(exits []exit, to *block) {
	for _, e := range exits {
		e.b.succ[e.br] = to
	}
}

func (g *gen) newBlock() *block {
	b := &block{id: len(g.blocks)}
	g.blocks = append(g.blocks, b)
	return b
}

// jump makes a predicate of one block: stmts, then op with operand k.
func (g *gen) jump(stmts []bpf.RawInstruction, op uint16, k uint32) frag {
	b := g.newBlock()
	b.stmts, b.op, b.k = stmts, op, k
	return frag{entry: b, t: []exit{{b, 0}}, f: []exit{{b, 1}}}
}

// constant makes a predicate that is always v.
func (g *gen) constant(v bool) frag {
	b := g.newBlock()
	b.kind = bkConst
	if v {
		return frag{entry: b, t: []exit{{b, 0}}}
	}
	return frag{entry: b, f: []exit{{b, 0}}}
}

func and(a, b frag) frag {
	patch(a.t, b.entry)
	return frag{entry: a.entry, t: b.t, f: join(a.f, b.f)}
}

func or(a, b frag) frag {
	patch(a.f, b.entry)
	return frag{entry: a.entry, t: join(a.t, b.t), f: b.f}
}

func not(a frag) frag { return frag{entry: a.entry, t: a.f, f: a.t} }

func join(a, b []exit) []exit {
	out := make([]exit, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}
