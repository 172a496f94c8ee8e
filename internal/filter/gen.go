package filter

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
)

// Link types this compiler generates code for.
const (
	LinkTypeNull      = 0   // BSD loopback, address family in host byte order
	LinkTypeEthernet  = 1   // Ethernet (DLT_EN10MB)
	LinkTypeRaw       = 101 // raw IPv4 or IPv6
	LinkTypeLoop      = 108 // OpenBSD loopback, address family in network byte order
	LinkTypeLinuxSLL  = 113 // Linux cooked capture v1
	LinkTypeLinuxSLL2 = 276 // Linux cooked capture v2

	linkTypePPP = 9 // the payload of a PPPoE session
)

// Ethertypes and LLC SAPs the generator tests for.
const (
	etherIP      = 0x0800
	etherARP     = 0x0806
	etherRARP    = 0x8035
	etherIPv6    = 0x86dd
	etherVLAN    = 0x8100
	etherQinQ    = 0x88a8
	etherQinQOld = 0x9100
	etherMPLS    = 0x8847
	etherPPPoED  = 0x8863
	etherPPPoES  = 0x8864
	etherAtalk   = 0x809b
	etherAARP    = 0x80f3
	etherDECnet  = 0x6003
	etherLAT     = 0x6004
	etherSCA     = 0x6007
	etherMOPRC   = 0x6002
	etherMOPDL   = 0x6001
	etherIPX     = 0x8137
	etherMTU     = 1500

	sapISONS   = 0xfe
	sapIP      = 0x06
	sapNetBEUI = 0xf0
	sapIPX     = 0xe0
	sap8021D   = 0x42

	sllP8023    = 1 // LINUX_SLL_P_802_3: raw 802.3 (Novell)
	sllP8022    = 4 // LINUX_SLL_P_802_2: 802.2 LLC
	sllOutgoing = 4

	protoUndef = -1
)

// gen generates the control-flow graph for one expression. Offsets change
// as it goes: vlan, mpls and pppoes move everything generated after them.
type gen struct {
	linkType    uint32 // the link type at this point (PPP after pppoes)
	origLink    uint32
	snaplen     uint32
	offLinkHdr  uint32
	offLinkType int // -1 if the link layer has no type field
	offLinkPL   uint32
	offNL       uint32
	offNLNoSnap uint32
	labelDepth  int // MPLS labels seen
	vlanDepth   int
	pos         int  // position of the node being generated, for errors
	noOptimize  bool // libpcap would not optimize this program
	opts        Options
	root        node // the whole expression, under any "not"
	regs        [memWords]bool
	curReg      uint32 // where allocReg starts looking
	blocks      []*block

	// The variable parts of offLinkHdr, offLinkType and offLinkPL. A live
	// Linux filter (Options.LinuxVLAN) cannot know after the first vlan
	// whether the kernel took that tag out of the data: from there on,
	// offsets have a part computed when the program runs.
	varHdr, varLinkType, varLinkPL varPart

	offsetRegs []uint32 // the scratch slots of variable parts, set to 0 first
	started    bool     // the generation of the whole expression has begun

	// geneveRegs are the scratch slots of the link-layer header and payload
	// offsets of a packet in Geneve; nil outside Geneve.
	geneveRegs []uint32
}

// failure carries a compilation error out of the recursive generator.
type failure struct{ err error }

func (g *gen) fail(format string, args ...any) {
	panic(failure{errAt(g.pos, format, args...)})
}

func newGen(linkType uint32, snaplen uint32) (*gen, error) {
	g := &gen{linkType: linkType, origLink: linkType, snaplen: snaplen}
	switch linkType {
	case LinkTypeEthernet:
		g.offLinkType, g.offLinkPL, g.offNLNoSnap = 12, 14, 3
	case LinkTypeLinuxSLL:
		g.offLinkType, g.offLinkPL = 14, 16
	case LinkTypeLinuxSLL2:
		g.offLinkType, g.offLinkPL = 0, 20
	case LinkTypeRaw:
		g.offLinkType, g.offLinkPL = -1, 0
	case LinkTypeNull, LinkTypeLoop:
		g.offLinkType, g.offLinkPL = 0, 4
	default:
		return nil, fmt.Errorf("filter: link type %d is not supported", linkType)
	}
	return g, nil
}

func linkName(lt uint32) string {
	switch lt {
	case LinkTypeEthernet:
		return "Ethernet"
	case LinkTypeLinuxSLL:
		return "Linux cooked v1"
	case LinkTypeLinuxSLL2:
		return "Linux cooked v2"
	case LinkTypeRaw:
		return "Raw IP"
	case LinkTypeNull:
		return "BSD loopback"
	case LinkTypeLoop:
		return "OpenBSD loopback"
	case linkTypePPP:
		return "PPP"
	}
	return fmt.Sprintf("DLT %d", lt)
}

// allocReg reserves a scratch memory slot. Like libpcap, it takes the
// first free slot from the last one taken on, round the 16: the slots
// then hold what they hold in libpcap's program, which matters where a
// program reads a slot no path to the read has written (the offsets after
// geneve, on the paths where geneve did not match).
func (g *gen) allocReg() uint32 {
	for range g.regs {
		if !g.regs[g.curReg] {
			g.regs[g.curReg] = true
			return g.curReg
		}
		g.curReg = (g.curReg + 1) % memWords
	}
	g.fail("too many registers needed to evaluate expression")
	return 0
}

func (g *gen) freeReg(r uint32) { g.regs[r] = false }

// Loads and comparisons.

// varPart is the variable part of an offset: when on, the value of
// scratch slot reg, set when the program runs, is added to the constant
// part.
type varPart struct {
	on  bool
	reg uint32
}

// loc is where a load reads: k bytes into the packet, plus the variable
// part v.
type loc struct {
	k uint32
	v varPart
}

// at is a location at a constant offset.
func at(k uint32) loc { return loc{k: k} }

func ldAbs(off uint32, size int) bpf.RawInstruction {
	return stmt(clsLD|modeABS|sizeCode(size), off)
}

// load returns the statements that load size bytes at l into A (and, for
// a variable location, the variable part into X).
func load(l loc, size int) []bpf.RawInstruction {
	if !l.v.on {
		return []bpf.RawInstruction{ldAbs(l.k, size)}
	}
	return []bpf.RawInstruction{stmt(clsLDX|modeMEM, l.v.reg), stmt(clsLD|modeIND|sizeCode(size), l.k)}
}

// loadIndexed returns the statements that load the value of the given
// size code at l plus the index in scratch slot idx.
func loadIndexed(l loc, idx uint32, size uint16) []bpf.RawInstruction {
	if !l.v.on {
		return []bpf.RawInstruction{stmt(clsLDX|modeMEM, idx), stmt(clsLD|modeIND|size, l.k)}
	}
	return []bpf.RawInstruction{
		stmt(clsLDX|modeMEM, l.v.reg), stmt(clsLD|modeMEM, idx), stmt(clsALU|aluAdd|srcX, 0),
		stmt(clsMISC|miscTAX, 0), stmt(clsLD|modeIND|size, l.k),
	}
}

// cmp tests the value of size bytes at off against v with the jump op.
func (g *gen) cmpOp(off loc, size int, op uint16, v uint32) frag {
	return g.jump(load(off, size), op, v)
}

func (g *gen) cmp(off loc, size int, v uint32) frag { return g.cmpOp(off, size, opJEQ, v) }

// mcmp tests (value & mask) == v.
func (g *gen) mcmp(off loc, size int, v, mask uint32) frag {
	s := load(off, size)
	if mask != 0xffffffff {
		s = append(s, stmt(clsALU|aluAnd|srcK, mask))
	}
	return g.jump(s, opJEQ, v)
}

func (g *gen) cmpGT(off loc, size int, v uint32) frag { return g.cmpOp(off, size, opJGT, v) }
func (g *gen) cmpGE(off loc, size int, v uint32) frag { return g.cmpOp(off, size, opJGE, v) }
func (g *gen) cmpLE(off loc, size int, v uint32) frag { return not(g.cmpGT(off, size, v)) }

// bcmp compares len(v) bytes at off, four then two then one at a time from
// the end, as libpcap does.
func (g *gen) bcmp(off loc, v []byte) frag {
	var b *frag
	add := func(f frag) {
		if b == nil {
			b = &f
		} else {
			x := and(*b, f)
			b = &x
		}
	}
	field := func(d uint32) loc { return loc{off.k + d, off.v} }
	size := uint32(len(v))
	for size >= 4 {
		p := v[size-4:]
		add(g.cmp(field(size-4), 4, uint32(p[0])<<24|uint32(p[1])<<16|uint32(p[2])<<8|uint32(p[3])))
		size -= 4
	}
	for size >= 2 {
		p := v[size-2:]
		add(g.cmp(field(size-2), 2, uint32(p[0])<<8|uint32(p[1])))
		size -= 2
	}
	if size > 0 {
		add(g.cmp(off, 1, uint32(v[0])))
	}
	return *b
}

// Offsets relative to the layers.

func (g *gen) hdr(off uint32) loc { return loc{g.offLinkHdr + off, g.varHdr} }
func (g *gen) linkType16() loc    { return loc{uint32(g.offLinkType), g.varLinkType} }
func (g *gen) nl(off uint32) loc  { return loc{g.offLinkPL + g.offNL + off, g.varLinkPL} }
func (g *gen) llc(off uint32) loc { return loc{g.offLinkPL + off, g.varLinkPL} }

// nlNoSnap is off bytes into the network layer of an 802.2 frame without
// a SNAP header.
func (g *gen) nlNoSnap(off uint32) loc { return loc{g.offLinkPL + g.offNLNoSnap + off, g.varLinkPL} }

// prevMPLS is off bytes into the innermost MPLS label.
func (g *gen) prevMPLS(off uint32) loc { return loc{g.offLinkPL + g.offNL - 4 + off, g.varLinkPL} }

// snap tests for an 802.2 SNAP header with the OUI and protocol.
func (g *gen) snap(oui uint32, proto uint16) frag {
	return g.bcmp(g.llc(0), []byte{0xaa, 0xaa, 0x03, byte(oui >> 16), byte(oui >> 8), byte(oui), byte(proto >> 8), byte(proto)})
}

// linktype tests the link-layer protocol: an ethertype, or an LLC SAP if
// at most 1500.
func (g *gen) linktype(p uint32) frag {
	if g.labelDepth > 0 {
		switch p {
		case etherIP:
			return and(g.mcmp(g.prevMPLS(2), 1, 1, 1), g.mcmp(g.nl(0), 1, 0x40, 0xf0))
		case etherIPv6:
			return and(g.mcmp(g.prevMPLS(2), 1, 1, 1), g.mcmp(g.nl(0), 1, 0x60, 0xf0))
		}
		g.fail("unsupported protocol over mpls")
	}
	switch g.linkType {
	case LinkTypeEthernet:
		return g.etherLinktype(p)
	case LinkTypeLinuxSLL:
		return g.sllLinktype(p)
	case LinkTypeLinuxSLL2:
		// libpcap 1.10 compares the protocol field alone, LLC SAPs included.
		return g.cmp(g.linkType16(), 2, p)
	case LinkTypeRaw:
		switch p {
		case etherIP:
			return g.mcmp(at(0), 1, 0x40, 0xf0)
		case etherIPv6:
			return g.mcmp(at(0), 1, 0x60, 0xf0)
		}
		return g.constant(false)
	case LinkTypeNull, LinkTypeLoop:
		var af uint32
		switch p {
		case etherIP:
			af = 2
		case etherIPv6:
			af = 10
		default:
			return g.constant(false)
		}
		if g.linkType == LinkTypeNull {
			// The family is in host byte order; loads are big-endian.
			var b [4]byte
			binary.NativeEndian.PutUint32(b[:], af)
			af = binary.BigEndian.Uint32(b[:])
		}
		return g.cmp(at(0), 4, af)
	case linkTypePPP:
		return g.cmp(g.linkType16(), 2, pppType(p))
	}
	g.fail("link type %d not supported", g.linkType)
	return frag{}
}

// pppType maps an ethertype to a PPP protocol number.
func pppType(p uint32) uint32 {
	switch p {
	case etherIP:
		return 0x0021
	case etherIPv6:
		return 0x0057
	case etherDECnet:
		return 0x0027
	case etherAtalk:
		return 0x0029
	case sapISONS:
		return 0x0023
	case etherIPX:
		return 0x002b
	}
	return p
}

func (g *gen) etherLinktype(p uint32) frag {
	lt := g.linkType16()
	switch p {
	case sapISONS, sapIP, sapNetBEUI:
		return and(not(g.cmpGT(lt, 2, etherMTU)), g.cmp(g.llc(0), 2, p<<8|p))
	case sapIPX:
		b1 := or(g.cmp(g.llc(0), 1, sapIPX), g.cmp(g.llc(0), 2, 0xffff))
		b1 = or(g.snap(0, etherIPX), b1)
		b1 = and(not(g.cmpGT(lt, 2, etherMTU)), b1)
		return or(g.cmp(lt, 2, etherIPX), b1)
	case etherAtalk, etherAARP:
		b0 := not(g.cmpGT(lt, 2, etherMTU))
		var b1 frag
		if p == etherAtalk {
			b1 = g.snap(0x080007, etherAtalk)
		} else {
			b1 = g.snap(0, etherAARP)
		}
		b1 = and(b0, b1)
		return or(g.cmp(lt, 2, p), b1)
	}
	if p <= etherMTU {
		return and(not(g.cmpGT(lt, 2, etherMTU)), g.cmp(loc{lt.k + 2, lt.v}, 1, p))
	}
	return g.cmp(lt, 2, p)
}

func (g *gen) sllLinktype(p uint32) frag {
	lt := g.linkType16()
	switch p {
	case sapISONS, sapIP, sapNetBEUI:
		return and(g.cmp(lt, 2, sllP8022), g.cmp(g.llc(0), 2, p<<8|p))
	case sapIPX:
		b1 := or(g.cmp(g.llc(0), 1, sapIPX), g.snap(0, etherIPX))
		b1 = and(g.cmp(lt, 2, sllP8022), b1)
		b1 = or(g.cmp(lt, 2, sllP8023), b1)
		return or(g.cmp(lt, 2, etherIPX), b1)
	case etherAtalk, etherAARP:
		b0 := g.cmp(lt, 2, sllP8022)
		var b1 frag
		if p == etherAtalk {
			b1 = g.snap(0x080007, etherAtalk)
		} else {
			b1 = g.snap(0, etherAARP)
		}
		b1 = and(b0, b1)
		return or(g.cmp(lt, 2, p), b1)
	}
	if p <= etherMTU {
		return and(g.cmp(lt, 2, sllP8022), g.cmp(g.llc(0), 1, p))
	}
	return g.cmp(lt, 2, p)
}
