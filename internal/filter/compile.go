package filter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// DefaultSnaplen is what an accepting program returns when Compile is
// given no snapshot length.
const DefaultSnaplen = 262144

// MaxInstructions is the longest program Compile returns: the Linux
// kernel's limit (BPF_MAXINSNS).
const MaxInstructions = 4096

// Compile translates a pcap-filter(7) expression into a classic BPF
// program for packets of the given link type (a LINKTYPE_ value: 1
// Ethernet, 113 Linux cooked v1, 276 Linux cooked v2, 101 raw IP, 0 BSD
// loopback, 108 OpenBSD loopback), with libpcap's semantics. The program
// returns snaplen for an accepted packet (DefaultSnaplen when snaplen <= 0)
// and 0 for a rejected one. An empty expression accepts every packet.
//
// Errors are of type *Error when they concern the expression; they locate
// the offending token and say what was expected.
func Compile(linkType uint32, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	return CompileWith(linkType, snaplen, expr, Options{})
}

// Options adjust code generation for where the program will run.
type Options struct {
	// LinuxVLAN generates code for a live Linux socket filter, which sees
	// packets with their outer VLAN tag taken out: the first "vlan" tests
	// the tag through the kernel's ancillary data, as libpcap does on a
	// live Linux handle.
	LinuxVLAN bool

	// Unroll compiles protochain with forward jumps only, as the kernel
	// requires, instead of libpcap's loop. The walk then stops after 12
	// chained headers, and a packet with a longer chain is accepted by
	// the whole program: the result selects every packet Compile's program
	// selects, and more only when such a packet comes. Programs without
	// protochain are the same with or without it.
	Unroll bool

	// unoptimized skips the optimizer (for tests comparing the two).
	unoptimized bool
}

// CompileWith is Compile with options.
func CompileWith(linkType uint32, snaplen int, expr string, opts Options) (prog []bpf.RawInstruction, err error) {
	snap := uint32(DefaultSnaplen)
	if snaplen > 0 {
		snap = uint32(min(snaplen, 1<<31-1))
	}
	g, err := newGen(linkType, snap)
	if err != nil {
		return nil, err
	}
	g.opts = opts
	ast, err := parse(expr)
	if err != nil {
		return nil, locate(expr, err)
	}
	if ast == nil {
		return []bpf.RawInstruction{stmt(clsRET|srcK, snap)}, nil
	}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			prog, err = nil, locate(expr, f.err)
		}
	}()
	root := g.graph(ast)
	if !g.noOptimize && !opts.unoptimized {
		opt, msg := optimize(root)
		if msg != "" {
			return nil, locate(expr, errAt(0, "%s", msg))
		}
		root = opt
		if root.kind == bkRet && root.ret == 0 {
			return nil, locate(expr, errAt(0, "expression rejects all packets"))
		}
	}
	prog = linearize(root)
	if len(prog) > MaxInstructions {
		return nil, fmt.Errorf("filter: expression needs %d instructions, more than the %d allowed", len(prog), MaxInstructions)
	}
	return prog, nil
}

// graph generates the control-flow graph of the whole expression: the
// predicate wired to an accepting and a rejecting return.
func (g *gen) graph(ast node) *block {
	g.root = ast
	for {
		n, ok := g.root.(*nNot)
		if !ok {
			break
		}
		g.root = n.x
	}
	f := g.node(ast)
	accept := g.newBlock()
	accept.kind, accept.ret = bkRet, g.snaplen
	reject := g.newBlock()
	reject.kind = bkRet
	patch(f.t, accept)
	patch(f.f, reject)
	return f.entry
}
