package filter

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// IP protocol numbers.
const (
	ipprotoICMP   = 1
	ipprotoIGMP   = 2
	ipprotoTCP    = 6
	ipprotoIGRP   = 9
	ipprotoUDP    = 17
	ipprotoFrag   = 44
	ipprotoESP    = 50
	ipprotoAH     = 51
	ipprotoICMPv6 = 58
	ipprotoPIM    = 103
	ipprotoVRRP   = 112
	ipprotoSCTP   = 132
)

// protoName is the keyword of a protocol qualifier, for messages.
func protoName(p int) string {
	for name, k := range keywords {
		if int(k) == p && name != "ether" && k != kwUnsupported {
			if k == kwLink {
				return "link"
			}
			if k == kwESIS || k == kwISIS {
				return strings.ReplaceAll(name, "-", "")
			}
			return name
		}
	}
	return "?"
}

// node generates the predicate for a boolean expression, left to right.
func (g *gen) node(n node) frag {
	if !g.started {
		// The whole expression.
		g.started = true
		return g.initOffsets(g.node(n))
	}
	switch n := n.(type) {
	case *nBool:
		l := g.node(n.l)
		r := g.node(n.r)
		if n.or {
			return or(l, r)
		}
		return and(l, r)
	case *nNot:
		return not(g.node(n.x))
	case *nProto:
		g.pos = n.pos
		return g.protoAbbrev(n.proto)
	case *nPrim:
		g.pos = n.pos
		return g.prim(n)
	case *nRel:
		return g.relation(n)
	case *nOther:
		g.pos = n.pos
		return g.other(n)
	}
	panic("filter: unknown node")
}

// protoAbbrev is a bare protocol name such as "tcp".
func (g *gen) protoAbbrev(p int) frag {
	switch kw(p) {
	case kwSCTP:
		return g.proto(ipprotoSCTP, qDefault, qDefault)
	case kwTCP:
		return g.proto(ipprotoTCP, qDefault, qDefault)
	case kwUDP:
		return g.proto(ipprotoUDP, qDefault, qDefault)
	case kwICMP:
		return g.proto(ipprotoICMP, int(kwIP), qDefault)
	case kwIGMP:
		return g.proto(ipprotoIGMP, int(kwIP), qDefault)
	case kwIGRP:
		return g.proto(ipprotoIGRP, int(kwIP), qDefault)
	case kwPIM:
		return g.proto(ipprotoPIM, qDefault, qDefault)
	case kwVRRP, kwCARP:
		return g.proto(ipprotoVRRP, int(kwIP), qDefault)
	case kwIP:
		return g.linktype(etherIP)
	case kwArp:
		return g.linktype(etherARP)
	case kwRarp:
		return g.linktype(etherRARP)
	case kwLink:
		g.fail("link layer applied in wrong context")
	case kwAtalk:
		return g.linktype(etherAtalk)
	case kwAarp:
		return g.linktype(etherAARP)
	case kwDecnet:
		return g.linktype(etherDECnet)
	case kwLat:
		return g.linktype(etherLAT)
	case kwSca:
		return g.linktype(etherSCA)
	case kwMoprc:
		return g.linktype(etherMOPRC)
	case kwMopdl:
		return g.linktype(etherMOPDL)
	case kwIP6:
		return g.linktype(etherIPv6)
	case kwICMP6:
		return g.proto(ipprotoICMPv6, int(kwIP6), qDefault)
	case kwAH:
		return g.proto(ipprotoAH, qDefault, qDefault)
	case kwESP:
		return g.proto(ipprotoESP, qDefault, qDefault)
	case kwISO:
		return g.linktype(sapISONS)
	case kwESIS:
		return g.proto(0x82, int(kwISO), qDefault)
	case kwISIS:
		return g.proto(isoISIS, int(kwISO), qDefault)
	case kwCLNP:
		return g.proto(0x81, int(kwISO), qDefault)
	case kwL1:
		return g.isisTypes(isisL1LANIIH, isisPTPIIH, isisL1LSP, isisL1CSNP, isisL1PSNP)
	case kwL2:
		return g.isisTypes(isisL2LANIIH, isisPTPIIH, isisL2LSP, isisL2CSNP, isisL2PSNP)
	case kwIIH:
		return g.isisTypes(isisL1LANIIH, isisL2LANIIH, isisPTPIIH)
	case kwLSP:
		return g.isisTypes(isisL1LSP, isisL2LSP)
	case kwSNP:
		return g.isisTypes(isisL1CSNP, isisL2CSNP, isisL1PSNP, isisL2PSNP)
	case kwCSNP:
		return g.isisTypes(isisL1CSNP, isisL2CSNP)
	case kwPSNP:
		return g.isisTypes(isisL1PSNP, isisL2PSNP)
	case kwSTP:
		return g.linktype(sap8021D)
	case kwIPX:
		return g.linktype(sapIPX)
	case kwNetbeui:
		return g.linktype(sapNetBEUI)
	}
	g.fail("%q is not supported", protoName(p))
	return frag{}
}

// proto is "[ip|ip6|ether|iso] proto v".
func (g *gen) proto(v uint32, p int, dir int) frag {
	if dir != qDefault {
		g.fail("direction applied to 'proto'")
	}
	switch p {
	case qDefault:
		return or(g.proto(v, int(kwIP), dir), g.proto(v, int(kwIP6), dir))
	case int(kwLink):
		return g.linktype(v)
	case int(kwIP):
		return and(g.linktype(etherIP), g.cmp(g.nl(9), 1, v))
	case int(kwIP6):
		b0 := g.linktype(etherIPv6)
		b1 := and(g.cmp(g.nl(6), 1, ipprotoFrag), g.cmp(g.nl(40), 1, v))
		b1 = or(g.cmp(g.nl(6), 1, v), b1)
		return and(b0, b1)
	case int(kwISO):
		return and(g.linktype(sapISONS), g.cmp(g.nlNoSnap(0), 1, v))
	case int(kwISIS):
		// The PDU type is 4 bytes into the IS-IS header.
		return and(g.proto(isoISIS, int(kwISO), qDefault), g.cmp(g.nlNoSnap(4), 1, v))
	case int(kwDecnet):
		g.fail("DECnet encapsulation is not specifiable: 'decnet proto' is not valid")
	case int(kwESIS), int(kwL1), int(kwL2), int(kwIIH), int(kwLSP), int(kwSNP), int(kwCSNP), int(kwPSNP):
		g.fail("'%s proto' is not valid: %s does not name an encapsulated protocol", protoName(p), protoName(p))
	case int(kwArp), int(kwRarp), int(kwSCTP), int(kwTCP), int(kwUDP), int(kwICMP), int(kwIGMP), int(kwIGRP), int(kwPIM), int(kwVRRP), int(kwCARP), int(kwICMP6), int(kwAH), int(kwESP), int(kwSTP), int(kwIPX), int(kwNetbeui):
		g.fail("'%s proto' is not valid: %s does not encapsulate another protocol", protoName(p), protoName(p))
	}
	g.fail("'proto' is not supported with %q", protoName(p))
	return frag{}
}

// IS-IS: the protocol discriminator under ISO and the PDU types.
const (
	isoISIS = 0x83

	isisL1LANIIH = 15
	isisL2LANIIH = 16
	isisPTPIIH   = 17
	isisL1LSP    = 18
	isisL2LSP    = 20
	isisL1CSNP   = 24
	isisL2CSNP   = 25
	isisL1PSNP   = 26
	isisL2PSNP   = 27
)

// isisTypes is true for an IS-IS PDU of one of the types. The last type is
// tested first, as libpcap does.
func (g *gen) isisTypes(types ...uint32) frag {
	b := g.proto(types[0], int(kwISIS), qDefault)
	if len(types) > 1 {
		b = or(b, g.proto(types[1], int(kwISIS), qDefault))
	}
	for _, t := range types[2:] {
		b = or(g.proto(t, int(kwISIS), qDefault), b)
	}
	return b
}

// ipFrag is true for an unfragmented IPv4 packet or a first fragment.
func (g *gen) ipFrag() frag {
	return not(g.jump(load(g.nl(6), 2), opJSET, 0x1fff))
}

// loadIPHdrLen loads X with the IPv4 header length, plus the variable
// part of the network layer's offset if it has one: a load at X plus the
// constant part of an offset after the IPv4 header then reads there.
func (g *gen) loadIPHdrLen() []bpf.RawInstruction {
	nl := g.nl(0)
	if !nl.v.on {
		return []bpf.RawInstruction{stmt(clsLDX|modeMSH|sizeB, nl.k)}
	}
	return []bpf.RawInstruction{
		stmt(clsLDX|modeMEM, nl.v.reg), stmt(clsLD|modeIND|sizeB, nl.k), stmt(clsALU|aluAnd|srcK, 0xf),
		stmt(clsALU|aluLsh|srcK, 2), stmt(clsALU|aluAdd|srcX, 0), stmt(clsMISC|miscTAX, 0),
	}
}

// tranCmp tests the transport-layer halfword at off after the IPv4 header.
func (g *gen) tranCmp4(off uint32, op uint16, v uint32) frag {
	return g.jump(append(g.loadIPHdrLen(), stmt(clsLD|modeIND|sizeH, g.nl(off).k)), op, v)
}

func (g *gen) tranCmp6(off uint32, op uint16, v uint32) frag {
	return g.cmpOp(g.nl(40+off), 2, op, v)
}

// portAtom tests one port field (off 0: source, 2: destination).
func (g *gen) portAtom(v6 bool, off uint32, lo, hi uint32) frag {
	cmp := g.tranCmp4
	if v6 {
		cmp = g.tranCmp6
	}
	if lo == hi {
		return cmp(off, opJEQ, lo)
	}
	return and(cmp(off, opJGE, lo), not(cmp(off, opJGT, hi)))
}

func (g *gen) portDir(v6 bool, dir int, lo, hi uint32) frag {
	switch dir {
	case dirSrc:
		return g.portAtom(v6, 0, lo, hi)
	case dirDst:
		return g.portAtom(v6, 2, lo, hi)
	case dirAnd:
		return and(g.portAtom(v6, 0, lo, hi), g.portAtom(v6, 2, lo, hi))
	}
	return or(g.portAtom(v6, 0, lo, hi), g.portAtom(v6, 2, lo, hi))
}

func (g *gen) portOp(v6 bool, ipproto uint32, dir int, lo, hi uint32) frag {
	if v6 {
		return and(g.cmp(g.nl(6), 1, ipproto), g.portDir(true, dir, lo, hi))
	}
	b0 := and(g.cmp(g.nl(9), 1, ipproto), g.ipFrag())
	return and(b0, g.portDir(false, dir, lo, hi))
}

// ports is "[tcp|udp|sctp] [dir] port(range) lo-hi" over IPv4 then IPv6.
func (g *gen) ports(ipproto int, dir int, lo, hi uint32) frag {
	if lo > hi {
		lo, hi = hi, lo
	}
	one := func(v6 bool) frag {
		var b1 frag
		if ipproto == protoUndef {
			// libpcap's order: SCTP, then TCP, then UDP.
			b1 = or(g.portOp(v6, ipprotoTCP, dir, lo, hi), g.portOp(v6, ipprotoUDP, dir, lo, hi))
			b1 = or(g.portOp(v6, ipprotoSCTP, dir, lo, hi), b1)
		} else {
			b1 = g.portOp(v6, uint32(ipproto), dir, lo, hi)
		}
		et := uint32(etherIP)
		if v6 {
			et = etherIPv6
		}
		return and(g.linktype(et), b1)
	}
	// IPv6 first, as libpcap tests it.
	b := one(false)
	return or(one(true), b)
}

// hostOp tests an IPv4 address field under an ethertype.
func (g *gen) hostOp(addr, mask uint32, dir int, et uint32, srcOff, dstOff uint32) frag {
	switch dir {
	case dirSrc, dirDst:
		off := srcOff
		if dir == dirDst {
			off = dstOff
		}
		return and(g.linktype(et), g.mcmp(g.nl(off), 4, addr, mask))
	case dirAnd:
		return and(g.hostOp(addr, mask, dirSrc, et, srcOff, dstOff), g.hostOp(addr, mask, dirDst, et, srcOff, dstOff))
	}
	return or(g.hostOp(addr, mask, dirSrc, et, srcOff, dstOff), g.hostOp(addr, mask, dirDst, et, srcOff, dstOff))
}

func addrWord(t int) string {
	if t == addrNet {
		return "net"
	}
	return "host"
}

// host is "[ip|arp|rarp] [dir] host|net addr/mask".
func (g *gen) host(addr, mask uint32, p, dir, typ int) frag {
	switch p {
	case qDefault:
		b := g.host(addr, mask, int(kwIP), dir, typ)
		if g.labelDepth == 0 {
			b = or(b, g.host(addr, mask, int(kwArp), dir, typ))
			b = or(b, g.host(addr, mask, int(kwRarp), dir, typ))
		}
		return b
	case int(kwLink):
		g.fail("link-layer modifier applied to %s", addrWord(typ))
	case int(kwIP):
		return g.hostOp(addr, mask, dir, etherIP, 12, 16)
	case int(kwArp):
		return g.hostOp(addr, mask, dir, etherARP, 14, 24)
	case int(kwRarp):
		return g.hostOp(addr, mask, dir, etherRARP, 14, 24)
	case int(kwIP6):
		g.fail("'ip6' modifier applied to ip %s", addrWord(typ))
	case int(kwDecnet):
		return g.dnhost(addr, dir)
	}
	g.fail("'%s' modifier applied to %s", protoName(p), addrWord(typ))
	return frag{}
}

func (g *gen) hostOp6(a, m [16]byte, dir int, srcOff, dstOff uint32) frag {
	switch dir {
	case dirSrc, dirDst:
		off := srcOff
		if dir == dirDst {
			off = dstOff
		}
		b := g.mcmp(g.nl(off), 4, binary.BigEndian.Uint32(a[0:]), binary.BigEndian.Uint32(m[0:]))
		for i := uint32(1); i < 4; i++ {
			b = and(b, g.mcmp(g.nl(off+4*i), 4, binary.BigEndian.Uint32(a[4*i:]), binary.BigEndian.Uint32(m[4*i:])))
		}
		return and(g.linktype(etherIPv6), b)
	case dirAnd:
		return and(g.hostOp6(a, m, dirSrc, srcOff, dstOff), g.hostOp6(a, m, dirDst, srcOff, dstOff))
	}
	return or(g.hostOp6(a, m, dirSrc, srcOff, dstOff), g.hostOp6(a, m, dirDst, srcOff, dstOff))
}

func (g *gen) host6(a, m [16]byte, p, dir, typ int) frag {
	switch p {
	case qDefault, int(kwIP6):
		return g.hostOp6(a, m, dir, 8, 24)
	case int(kwLink):
		g.fail("link-layer modifier applied to ip6 %s", addrWord(typ))
	case int(kwIP):
		g.fail("'ip' modifier applied to ip6 %s", addrWord(typ))
	}
	g.fail("'%s' modifier applied to ip6 %s", protoName(p), addrWord(typ))
	return frag{}
}

// ehost tests Ethernet addresses.
func (g *gen) ehost(mac [6]byte, dir int) frag {
	switch dir {
	case dirSrc:
		return g.bcmp(g.hdr(6), mac[:])
	case dirDst:
		return g.bcmp(g.hdr(0), mac[:])
	case dirAnd:
		return and(g.ehost(mac, dirSrc), g.ehost(mac, dirDst))
	}
	return or(g.ehost(mac, dirSrc), g.ehost(mac, dirDst))
}

// atoin parses a dotted IPv4 address or prefix of one, returning the value
// (not shifted) and its length in bits.
func atoin(s string) (uint32, int, bool) {
	parts := strings.Split(s, ".")
	var v uint32
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n > 255 {
			return 0, 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, 8 * len(parts), true
}

// atodn parses a DECnet address AREA.NODE into its 16-bit value, area in
// the top 6 bits and node in the low 10, with libpcap's leniency: each
// number is read as a C int (decimal, wrapping), bits beyond its field are
// dropped, and anything after the node number is ignored.
func atodn(s string) (uint32, bool) {
	area, rest, ok := cInt(s)
	if !ok || !strings.HasPrefix(rest, ".") {
		return 0, false
	}
	node, _, ok := cInt(rest[1:])
	if !ok {
		return 0, false
	}
	return (area<<10)&0xfc00 | node&0x3ff, true
}

// cInt reads a decimal number at the start of s as scanf's %d does, and
// returns its value converted to 32 bits and the rest of s.
func cInt(s string) (uint32, string, bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	over := false
	for i < len(s) && isDigit(s[i]) {
		d := uint64(s[i] - '0')
		if v > (1<<63-1-d)/10 {
			over = true
		} else {
			v = v*10 + d
		}
		i++
	}
	if i == start {
		return 0, s, false
	}
	if over {
		// strtol saturates; the conversion to int keeps the low bits.
		if neg {
			return 0, s[i:], true
		}
		return 0xffffffff, s[i:], true
	}
	if neg {
		v = -v
	}
	return uint32(v), s[i:], true
}

// dnhost tests the DECnet addresses of data packets, with a long or a
// short header and with or without a byte of padding, as libpcap does.
// The address is stored little-endian.
func (g *gen) dnhost(addr uint32, dir int) frag {
	var short, long uint32
	switch dir {
	case dirDst:
		short, long = 1, 7
	case dirSrc:
		short, long = 3, 15
	case dirAnd:
		return and(g.dnhost(addr, dirSrc), g.dnhost(addr, dirDst))
	default:
		return or(g.dnhost(addr, dirSrc), g.dnhost(addr, dirDst))
	}
	a := (addr&0xff)<<8 | (addr>>8)&0xff
	// The flags are at byte 2 of the payload (after the length), or at
	// byte 3 after a pad byte 0x81.
	b := and(g.mcmp(g.llc(2), 2, 0x8106, 0xff07), g.cmp(g.llc(3+long), 2, a))
	b = or(and(g.mcmp(g.llc(2), 1, 0x06, 0x07), g.cmp(g.llc(2+long), 2, a)), b)
	b = or(and(g.mcmp(g.llc(2), 2, 0x8102, 0xff07), g.cmp(g.llc(3+short), 2, a)), b)
	b = or(and(g.mcmp(g.llc(2), 1, 0x02, 0x07), g.cmp(g.llc(2+short), 2, a)), b)
	return and(g.linktype(etherDECnet), b)
}

func (g *gen) portProto(q qual, what string) int {
	switch q.proto {
	case int(kwUDP):
		return ipprotoUDP
	case int(kwTCP):
		return ipprotoTCP
	case int(kwSCTP):
		return ipprotoSCTP
	case qDefault:
		return protoUndef
	}
	g.fail("illegal qualifier of '%s'", what)
	return 0
}

func (g *gen) syntax(n *nPrim) {
	g.fail("expected a qualifier such as \"host\", \"net\" or \"port\" before %q", n.text)
}

// prim generates a qualified value.
func (g *gen) prim(n *nPrim) frag {
	q := n.q
	if q.addr == qUndef {
		switch n.kind {
		case vHIDLen, vHIDMask:
			g.fail("mask syntax is for networks only: %q needs \"net\"", n.text)
		case vEID:
			g.fail("ethernet address used in non-ether expression")
		}
		g.syntax(n)
	}
	switch n.kind {
	case vNum, vHID:
		return g.ncode(n)
	case vHIDLen, vHIDMask:
		return g.mcode(n)
	case vHID6:
		return g.mcode6(n)
	case vEID:
		if (q.addr == addrHost || q.addr == qDefault) && q.proto == int(kwLink) {
			if g.linkType != LinkTypeEthernet {
				g.fail("ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel")
			}
			return g.innerEther(g.ehost(n.mac, q.dir))
		}
		g.fail("ethernet address used in non-ether expression")
	case vName:
		return g.scode(n)
	}
	panic("filter: unknown value kind")
}

func (g *gen) ncode(n *nPrim) frag {
	q := n.q
	v, vlen := n.num, 32
	if n.kind == vHID {
		switch q.addr {
		case addrPort, addrPortrange, addrProto, addrProtochain:
			g.fail("'%s' modifier applied to IP address %s", q.word, n.text)
		}
		var ok bool
		if q.proto == int(kwDecnet) {
			if v, ok = atodn(n.text); !ok {
				g.fail("malformed DECnet address %q: expected AREA.NODE", n.text)
			}
		} else if v, vlen, ok = atoin(n.text); !ok {
			g.fail("invalid IPv4 address %q", n.text)
		}
	}
	switch q.addr {
	case qDefault, addrHost, addrNet:
		if q.proto == int(kwDecnet) {
			return g.dnhost(v, q.dir)
		}
		if q.proto == int(kwLink) {
			g.fail("illegal link layer address")
		}
		mask := uint32(0xffffffff)
		if n.kind == vNum && q.addr == addrNet {
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		} else {
			v <<= 32 - vlen
			mask <<= 32 - vlen
		}
		return g.host(v, mask, q.proto, q.dir, q.addr)
	case addrPort, addrPortrange:
		what := "port"
		if q.addr == addrPortrange {
			what = "portrange"
		}
		pr := g.portProto(q, what)
		if v > 65535 {
			g.fail("illegal port number %d > 65535", v)
		}
		return g.ports(pr, q.dir, v, v)
	case addrGateway:
		g.fail("'gateway' requires a name")
	case addrProto:
		return g.proto(v, q.proto, q.dir)
	case addrProtochain:
		return g.protochain(v, q.proto)
	}
	g.syntax(n)
	return frag{}
}

func (g *gen) mcode(n *nPrim) frag {
	q := n.q
	v, vlen, ok := atoin(n.text)
	if !ok {
		g.fail("invalid IPv4 address %q", n.text)
	}
	v <<= 32 - vlen
	var m uint32
	if n.kind == vHIDMask {
		mv, mlen, ok := atoin(n.text2)
		if !ok {
			g.fail("invalid IPv4 address %q", n.text2)
		}
		m = mv << (32 - mlen)
		if v&^m != 0 {
			g.fail("non-network bits set in \"%s mask %s\"", n.text, n.text2)
		}
	} else {
		if n.num > 32 {
			g.fail("mask length must be <= 32")
		}
		if n.num != 0 {
			m = 0xffffffff << (32 - n.num)
		}
		if v&^m != 0 {
			g.fail("non-network bits set in \"%s/%d\"", n.text, n.num)
		}
	}
	if q.addr != addrNet {
		g.fail("mask syntax is for networks only: use \"net %s\"", n.text)
	}
	return g.host(v, m, q.proto, q.dir, q.addr)
}

func (g *gen) mcode6(n *nPrim) frag {
	q := n.q
	if n.num > 128 {
		g.fail("mask length must be <= 128")
	}
	a := n.ip6.As16()
	var m [16]byte
	for i := 0; i < int(n.num); i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	for i := range a {
		if a[i]&^m[i] != 0 {
			g.fail("non-network bits set in \"%s/%d\"", n.ip6, n.num)
		}
	}
	switch q.addr {
	case qDefault, addrHost:
		if n.num != 128 {
			g.fail("mask syntax is for networks only: use \"net %s/%d\"", n.ip6, n.num)
		}
	case addrNet:
	default:
		g.fail("invalid qualifier against IPv6 address")
	}
	return g.host6(a, m, q.proto, q.dir, q.addr)
}

// scode generates a value given by name.
func (g *gen) scode(n *nPrim) frag {
	q := n.q
	name := n.text
	switch q.addr {
	case qDefault, addrHost:
		if q.proto == int(kwLink) {
			if g.linkType != LinkTypeEthernet {
				g.fail("only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name")
			}
			mac, ok := lookupEther(name)
			if !ok {
				g.fail("unknown ether host %q", name)
			}
			return g.innerEther(g.ehost(mac, q.dir))
		}
		if q.proto == int(kwDecnet) {
			g.fail("DECnet host names are not supported: expected an address AREA.NODE, got %q", name)
		}
		addrs := lookupHost(name)
		var b *frag
		for _, a := range addrs {
			var f frag
			if a.Is4() {
				if q.proto == int(kwIP6) {
					continue
				}
				v := binary.BigEndian.Uint32(a.AsSlice())
				p := q.proto
				if g.offLinkType < 0 && p == qDefault {
					p = int(kwIP)
				}
				f = g.host(v, 0xffffffff, p, q.dir, q.addr)
			} else {
				if q.proto == int(kwIP) {
					continue
				}
				var m [16]byte
				for i := range m {
					m[i] = 0xff
				}
				f = g.host6(a.As16(), m, q.proto, q.dir, q.addr)
			}
			if b == nil {
				b = &f
			} else {
				x := or(*b, f)
				b = &x
			}
		}
		if b == nil {
			g.fail("unknown host %q", name)
		}
		return *b
	case addrNet:
		g.fail("unknown network %q", name)
	case addrPort, addrPortrange:
		what := "port"
		if q.addr == addrPortrange {
			what = "portrange"
		}
		pr := g.portProto(q, what)
		var lo, hi uint32
		var real int
		if q.addr == addrPort {
			p, rp, ok := lookupPort(name)
			if !ok {
				g.fail("expected a port number after %q, got %q", q.word, name)
			}
			lo, hi, real = p, p, rp
		} else {
			var ok bool
			lo, hi, real, ok = lookupPortRange(name)
			if !ok {
				g.fail("expected a port range such as 1000-2000 after %q, got %q", q.word, name)
			}
		}
		if pr != protoUndef {
			if real != protoUndef && real != pr {
				g.fail("port %q is %s", name, ipProtoName(real))
			}
			real = pr
		}
		if lo > 65535 {
			g.fail("illegal port number %d > 65535", lo)
		}
		if hi > 65535 {
			g.fail("illegal port number %d > 65535", hi)
		}
		return g.ports(real, q.dir, lo, hi)
	case addrGateway:
		// libpcap built with IPv6 support, as every distribution builds
		// it, refuses gateway.
		g.fail("'gateway' not supported in this configuration")
	case addrProto, addrProtochain:
		var v uint32
		switch q.proto {
		case qDefault, int(kwIP), int(kwIP6):
			p, ok := lookupProtocol(name)
			if !ok {
				g.fail("unknown ip proto %q", name)
			}
			v = p
		case int(kwLink):
			p, ok := etherProtos[name]
			if !ok {
				if p, ok = llcProtos[name]; !ok {
					g.fail("unknown ether proto %q", name)
				}
			}
			v = p
		case int(kwISO):
			p, ok := isoProtos[name]
			if !ok {
				g.fail("unknown osi proto %q", name)
			}
			v = p
		default:
			g.fail("'%s proto' is not valid", protoName(q.proto))
		}
		if q.addr == addrProtochain {
			return g.protochain(v, q.proto)
		}
		return g.proto(v, q.proto, q.dir)
	}
	g.syntax(n)
	return frag{}
}

func ipProtoName(p int) string {
	switch p {
	case ipprotoTCP:
		return "tcp"
	case ipprotoUDP:
		return "udp"
	case ipprotoSCTP:
		return "sctp"
	}
	return strconv.Itoa(p)
}

// other generates the keyword primitives.
func (g *gen) other(n *nOther) frag {
	switch n.what {
	case kwBroadcast:
		return g.broadcast(n.proto)
	case kwMulticast:
		return g.multicast(n.proto)
	case kwLess:
		return not(g.jump([]bpf.RawInstruction{stmt(clsLD|modeLEN|sizeW, 0)}, opJGT, n.num))
	case kwGreater:
		return g.jump([]bpf.RawInstruction{stmt(clsLD|modeLEN|sizeW, 0)}, opJGE, n.num)
	case kwInbound, kwOutbound:
		var b frag
		switch g.linkType {
		case LinkTypeLinuxSLL:
			b = g.cmp(g.hdr(0), 2, sllOutgoing)
		case LinkTypeLinuxSLL2:
			b = g.cmp(g.hdr(10), 1, sllOutgoing)
		default:
			b = g.cmp(g.hdr(ancillaryBase+adPktType), 2, sllOutgoing)
		}
		if n.what == kwInbound {
			b = not(b)
		}
		return b
	case kwIfindex:
		if g.linkType == LinkTypeLinuxSLL2 {
			return g.cmp(g.hdr(4), 4, n.num)
		}
		return g.cmp(g.hdr(ancillaryBase+adIfIndex), 4, n.num)
	case kwVlan:
		return g.vlan(n)
	case kwMPLS:
		return g.mpls(n)
	case kwPPPoED:
		return g.linktype(etherPPPoED)
	case kwPPPoES:
		return g.pppoes(n)
	case kwLLC:
		return g.llcFrame(n)
	case kwByte:
		var b frag
		switch n.byteOp {
		case "=":
			return g.cmp(g.hdr(n.num), 1, n.val)
		case "<":
			return not(g.cmpGE(g.hdr(n.num), 1, n.val))
		case ">":
			return g.cmpGT(g.hdr(n.num), 1, n.val)
		case "|":
			// As libpcap does, the operation applies to the accumulator
			// as it is, without loading the byte.
			b = g.jump([]bpf.RawInstruction{stmt(clsALU|aluOr|srcK, n.val)}, opJEQ, 0)
		default:
			b = g.jump([]bpf.RawInstruction{stmt(clsALU|aluAnd|srcK, n.val)}, opJEQ, 0)
		}
		return not(b)
	case kwGeneve:
		return g.geneve(n)
	}
	g.fail("unsupported primitive")
	return frag{}
}

// LLC control field values and masks (after the two SAPs): I frames have
// the low bit clear, S frames end in 01 and U frames in 11.
var (
	llcSTypes = map[string]uint32{"rr": 0x01, "rnr": 0x05, "rej": 0x09}
	llcUTypes = map[string]uint32{
		"ui": 0x03, "ua": 0x63, "disc": 0x43, "dm": 0x0f, "sabme": 0x6f,
		"test": 0xe3, "xid": 0xaf, "frmr": 0x87,
	}
)

const (
	llcSMask = 0x0f
	llcUMask = 0xef // the poll/final bit aside
)

// llcFrame is "llc" (an 802.2 frame) or "llc NAME" (one of its frame
// types).
func (g *gen) llcFrame(n *nOther) frag {
	name := strings.ToLower(n.name)
	var sub, mask uint32
	if n.has {
		switch name {
		case "i", "s", "u":
		default:
			var ok bool
			if sub, ok = llcSTypes[name]; ok {
				mask = llcSMask
			} else if sub, ok = llcUTypes[name]; ok {
				mask = llcUMask
			} else {
				g.fail("unknown LLC frame type %q: expected i, s, u, rr, rnr, rej, ui, ua, disc, dm, sabme, test, xid or frmr", n.name)
			}
		}
	}
	if g.linkType != LinkTypeEthernet {
		g.fail("'llc' not supported for %s", linkName(g.linkType))
	}
	b := and(not(g.cmpGT(g.linkType16(), 2, etherMTU)), not(g.cmp(g.llc(0), 2, 0xffff)))
	if !n.has {
		return b
	}
	ctrl := g.llc(2)
	switch name {
	case "i":
		return and(b, not(g.jump(load(ctrl, 1), opJSET, 1)))
	case "s":
		return and(b, g.mcmp(ctrl, 1, 1, 3))
	case "u":
		return and(b, g.mcmp(ctrl, 1, 3, 3))
	}
	return and(b, g.mcmp(ctrl, 1, sub, mask))
}

func (g *gen) broadcast(p int) frag {
	switch p {
	case qDefault, int(kwLink):
		if g.linkType == LinkTypeEthernet {
			return g.innerEther(g.ehost([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, dirDst))
		}
		g.fail("not a broadcast link")
	case int(kwIP):
		// The netmask is unknown here (0): the host part is all 32 bits.
		b := or(g.mcmp(g.nl(16), 4, 0, 0xffffffff), g.mcmp(g.nl(16), 4, 0xffffffff, 0xffffffff))
		return and(g.linktype(etherIP), b)
	}
	g.fail("only link-layer/IP broadcast filters supported")
	return frag{}
}

func (g *gen) multicast(p int) frag {
	switch p {
	case qDefault, int(kwLink):
		if g.linkType == LinkTypeEthernet {
			return g.innerEther(g.jump(load(g.hdr(0), 1), opJSET, 1))
		}
		g.fail("link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel")
	case int(kwIP):
		return and(g.linktype(etherIP), g.cmpGE(g.nl(16), 1, 224))
	case int(kwIP6):
		return and(g.linktype(etherIPv6), g.cmp(g.nl(24), 1, 255))
	}
	g.fail("only IP multicast filters supported on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel")
	return frag{}
}

// Ancillary data of a Linux socket filter about the VLAN tag the kernel
// took out of the packet (SKF_AD_VLAN_TAG, SKF_AD_VLAN_TAG_PRESENT).
const (
	adVLANTag        = 44
	adVLANTagPresent = 48
)

func (g *gen) vlan(n *nOther) frag {
	if g.labelDepth > 0 {
		g.fail("no VLAN match after MPLS")
	}
	if g.linkType != LinkTypeEthernet {
		g.fail("no VLAN support for %s", linkName(g.linkType))
	}
	if n.has && n.num > 0x0fff {
		g.fail("VLAN tag %d greater than maximum %d", n.num, 0x0fff)
	}
	if g.opts.LinuxVLAN && g.vlanDepth == 0 && !g.varHdr.on && g.offLinkHdr == 0 {
		g.vlanDepth++
		return g.vlanLinux(n)
	}
	b := g.vlanTPID()
	if n.has {
		b = and(b, g.vlanID(n.num))
	}
	g.offLinkPL += 4
	g.offLinkType += 4
	g.vlanDepth++
	return b
}

// vlanTPID tests for a VLAN tag protocol identifier in the type field.
func (g *gen) vlanTPID() frag {
	b := or(g.linktype(etherVLAN), g.linktype(etherQinQ))
	return or(b, g.linktype(etherQinQOld))
}

// vlanID tests the VLAN ID of the tag whose TPID is in the type field.
func (g *gen) vlanID(id uint32) frag { return g.mcmp(g.nl(0), 2, id, 0x0fff) }

// vlanLinux generates the first "vlan" of a live Linux socket filter. The
// kernel usually takes the outermost tag out of the packet before the
// filter runs and gives it as ancillary data; when it did not (a TPID it
// does not know, or an outgoing packet whose tag is in its data), the tag
// is still in the data. Both are tested, and the offsets of everything after the
// link-layer header become variable: the 4 bytes of the tag are added to
// them when it was found in the data, and nothing when it came from the
// ancillary data.
func (g *gen) vlanLinux(n *nOther) frag {
	present := func() frag { return g.cmp(at(ancillaryBase+adVLANTagPresent), 1, 1) }
	b := present()
	// The tests of the tag in the data read it where it is: generate them
	// with the offsets as they are.
	inData := g.vlanTPID()
	var idInData frag
	if n.has {
		idInData = g.vlanID(n.num)
	}
	pl, lt := g.allocReg(), g.allocReg()
	g.offsetRegs = append(g.offsetRegs, pl, lt)
	g.varLinkPL = varPart{on: true, reg: pl}
	g.varLinkType = varPart{on: true, reg: lt}
	skip := []bpf.RawInstruction{
		stmt(clsLD|modeMEM, pl), stmt(clsALU|aluAdd|srcK, 4), stmt(clsST, pl),
		stmt(clsLD|modeMEM, lt), stmt(clsALU|aluAdd|srcK, 4), stmt(clsST, lt),
	}
	inData.entry.stmts = append(skip, inData.entry.stmts...)
	b = or(b, inData)
	if !n.has {
		return b
	}
	id := present()
	idInMeta := g.mcmp(at(ancillaryBase+adVLANTag), 2, n.num, 0x0fff)
	patch(id.t, idInMeta.entry)
	patch(id.f, idInData.entry)
	return and(b, frag{entry: id.entry, t: join(idInMeta.t, idInData.t), f: join(idInMeta.f, idInData.f)})
}

// initOffsets makes f, the predicate of the whole expression, start by
// setting the variable parts of the offsets to 0.
func (g *gen) initOffsets(f frag) frag {
	if len(g.offsetRegs) == 0 {
		return f
	}
	init := g.newBlock()
	init.kind = bkConst
	init.stmts = []bpf.RawInstruction{stmt(clsLD|modeIMM, 0)}
	for _, r := range g.offsetRegs {
		init.stmts = append(init.stmts, stmt(clsST, r))
	}
	init.succ[0] = f.entry
	return frag{entry: init, t: f.t, f: f.f}
}

func (g *gen) mpls(n *nOther) frag {
	var b frag
	if g.labelDepth > 0 {
		b = g.mcmp(g.prevMPLS(2), 1, 0, 1)
	} else {
		switch g.linkType {
		case LinkTypeEthernet:
			b = g.linktype(etherMPLS)
		case linkTypePPP:
			b = g.linktype(0x0281)
		default:
			g.fail("no MPLS support for %s", linkName(g.linkType))
		}
	}
	if n.has {
		if n.num > 0xfffff {
			g.fail("MPLS label %d greater than maximum %d", n.num, 0xfffff)
		}
		b = and(b, g.mcmp(g.nl(0), 4, n.num<<12, 0xfffff000))
	}
	g.offNLNoSnap += 4
	g.offNL += 4
	g.labelDepth++
	return b
}

func (g *gen) pppoes(n *nOther) frag {
	b := g.linktype(etherPPPoES)
	if n.has {
		if n.num > 0xffff {
			g.fail("PPPoE session number %d greater than maximum %d", n.num, 0xffff)
		}
		b = and(b, g.mcmp(g.nl(0), 4, n.num, 0xffff))
	}
	g.offLinkHdr = g.offLinkPL + g.offNL + 6
	g.offLinkType = int(g.offLinkHdr)
	g.offLinkPL = g.offLinkHdr + 2
	g.varHdr, g.varLinkType = g.varLinkPL, g.varLinkPL
	g.offNL, g.offNLNoSnap = 0, 0
	g.linkType = linkTypePPP
	g.geneveRegs = nil
	return b
}

// Geneve: the UDP port, the protocol type of Transparent Ethernet Bridging
// (an Ethernet frame follows the Geneve header), and the largest VNI.
const (
	genevePort   = 6081
	etherTEB     = 0x6558
	geneveMaxVNI = 0xffffff
)

// geneve is "geneve [vni]": a UDP packet to the Geneve port, over IPv4 or
// IPv6, whose Geneve header has version 0 (and the VNI). What follows
// applies to the encapsulated packet, as after vlan: its offsets are
// computed when the program runs, from the IP header length and the
// Geneve options length, and it is taken for an Ethernet frame (its
// protocol type is where an Ethernet type would be, at the end of an
// inner Ethernet header if there is one). Like libpcap, which then does
// not optimize the program, the program is left unoptimized.
func (g *gen) geneve(n *nOther) frag {
	if n.has && n.num > geneveMaxVNI {
		g.fail("Geneve VNI %d greater than maximum %d", n.num, geneveMaxVNI)
	}
	b := or(g.geneveCheck(false, n), g.geneveCheck(true, n))

	// A holds the offset of the UDP header less the constant part of the
	// network layer's offset: add that part and the UDP header.
	lt, hdr, pl := g.allocReg(), g.allocReg(), g.allocReg()
	g.offsetRegs = append(g.offsetRegs, lt, hdr, pl)
	head := g.newBlock()
	head.stmts = []bpf.RawInstruction{
		stmt(clsALU|aluAdd|srcK, g.offLinkPL+g.offNL+8), stmt(clsMISC|miscTAX, 0),
		// The protocol type, 2 bytes in, is the inner type field unless
		// an Ethernet header follows.
		stmt(clsALU|aluAdd|srcK, 2), stmt(clsST, lt),
		// The header is 8 bytes plus 4 times the options length.
		stmt(clsLD|modeIND|sizeB, 0), stmt(clsALU|aluAnd|srcK, 0x3f), stmt(clsALU|aluMul|srcK, 4),
		stmt(clsALU|aluAdd|srcK, 8), stmt(clsALU|aluAdd|srcX, 0), stmt(clsST, hdr),
		stmt(clsLD|modeIND|sizeH, 2), stmt(clsLDX|modeMEM, hdr),
	}
	head.op, head.k = opJEQ, etherTEB
	eth := g.newBlock()
	eth.kind = bkConst
	eth.stmts = []bpf.RawInstruction{
		stmt(clsMISC|miscTXA, 0), stmt(clsALU|aluAdd|srcK, 12), stmt(clsST, lt),
		stmt(clsALU|aluAdd|srcK, 2), stmt(clsMISC|miscTAX, 0),
	}
	payload := g.newBlock()
	payload.kind = bkConst
	payload.stmts = []bpf.RawInstruction{stmt(clsSTX, pl)}
	head.succ = [2]*block{eth, payload}
	eth.succ[0] = payload

	g.linkType = LinkTypeEthernet
	g.offLinkHdr, g.varHdr = 0, varPart{on: true, reg: hdr}
	g.offLinkType, g.varLinkType = 0, varPart{on: true, reg: lt}
	g.offLinkPL, g.varLinkPL = 0, varPart{on: true, reg: pl}
	g.offNL = 0
	g.geneveRegs = []uint32{hdr, pl}
	g.noOptimize = true
	return and(b, frag{entry: head, t: []exit{{payload, 0}}})
}

// geneveCheck tests for Geneve over IPv4 or IPv6 and leaves in A the
// offset of the UDP header, less the constant part of the network layer's
// offset.
func (g *gen) geneveCheck(v6 bool, n *nOther) frag {
	et := uint32(etherIP)
	if v6 {
		et = etherIPv6
	}
	b := and(g.linktype(et), g.portOp(v6, ipprotoUDP, dirDst, genevePort, genevePort))
	field := func(off uint32, size int, v, mask uint32) frag {
		var s []bpf.RawInstruction
		if v6 {
			s = load(g.nl(40+off), size)
		} else {
			s = append(g.loadIPHdrLen(), stmt(clsLD|modeIND|sizeCode(size), g.nl(off).k))
		}
		return g.jump(append(s, stmt(clsALU|aluAnd|srcK, mask)), opJEQ, v)
	}
	// Version 0, in the top 2 bits of the first byte.
	b = and(b, field(8, 1, 0, 0xc0))
	if n.has {
		b = and(b, field(12, 4, n.num<<8, 0xffffff00))
	}
	var s []bpf.RawInstruction
	if v6 {
		if l := g.nl(0); l.v.on {
			s = []bpf.RawInstruction{stmt(clsLDX|modeMEM, l.v.reg), stmt(clsLD|modeIMM, 40), stmt(clsALU|aluAdd|srcX, 0)}
		} else {
			s = []bpf.RawInstruction{stmt(clsLD|modeIMM, 40)}
		}
	} else {
		s = append(g.loadIPHdrLen(), stmt(clsMISC|miscTXA, 0))
	}
	set := g.constant(true)
	set.entry.stmts = s
	return and(b, set)
}

// innerEther adds to a test of the Ethernet header, after geneve, that
// the encapsulated packet has one.
func (g *gen) innerEther(b frag) frag {
	if g.geneveRegs == nil {
		return b
	}
	s := []bpf.RawInstruction{stmt(clsLD|modeMEM, g.geneveRegs[0]), stmt(clsLDX|modeMEM, g.geneveRegs[1])}
	return and(not(g.jump(s, opJEQ|srcX, 0)), b)
}

// protochainDepth is how many chained headers the unrolled protochain of
// Options.Unroll follows before it gives up and accepts the packet.
const protochainDepth = 12

// protochain follows the IPv6 extension header (and AH) chain looking for
// protocol v, with libpcap's arithmetic (including its AH length
// computation, which does not add the previous offset). By default it is
// libpcap's loop, with a backward jump; with Options.Unroll, the same steps
// repeated protochainDepth times with forward jumps only.
func (g *gen) protochain(v uint32, p int) frag {
	switch p {
	case int(kwIP), int(kwIP6):
	case qDefault:
		// libpcap takes a scratch slot here that it never gives back, so
		// the two walks use the next one; so do these, and the programs
		// are libpcap's to the instruction.
		g.allocReg()
		return or(g.protochain(v, int(kwIP)), g.protochain(v, int(kwIP6)))
	default:
		g.fail("bad protocol applied for 'protochain'")
	}
	if g.varLinkPL.on {
		g.fail("'protochain' not supported with variable length headers")
	}
	// libpcap does not optimize a program with protochain, so it never
	// finds that one rejects every packet.
	g.noOptimize = true
	reg := g.allocReg()
	defer g.freeReg(reg)
	nl := g.nl(0).k
	// The walk starts with A = the protocol, X = the offset of the header
	// after the IP header, from the network layer.
	var start []bpf.RawInstruction
	et := uint32(etherIP)
	if p == int(kwIP) {
		start = append(load(g.nl(9), 1), g.loadIPHdrLen()...)
	} else {
		et = etherIPv6
		start = append(load(g.nl(6), 1), stmt(clsLDX|modeIMM, 40))
	}
	// ext skips an IPv6 extension header of (length+1)*8 bytes, keeping
	// the next protocol in A; ah moves X to (length+2)*4, as libpcap does.
	ext := []bpf.RawInstruction{
		stmt(clsLD|modeIND|sizeB, nl), stmt(clsST, reg), stmt(clsLD|modeIND|sizeB, nl+1),
		stmt(clsALU|aluAdd|srcK, 1), stmt(clsALU|aluMul|srcK, 8), stmt(clsALU|aluAdd|srcX, 0),
		stmt(clsMISC|miscTAX, 0), stmt(clsLD|modeMEM, reg),
	}
	ah := []bpf.RawInstruction{
		stmt(clsMISC|miscTXA, 0), stmt(clsLD|modeIND|sizeB, nl), stmt(clsST, reg),
		stmt(clsMISC|miscTXA, 0), stmt(clsALU|aluAdd|srcK, 1), stmt(clsMISC|miscTAX, 0),
		stmt(clsLD|modeIND|sizeB, nl), stmt(clsALU|aluAdd|srcK, 2), stmt(clsALU|aluMul|srcK, 4),
		stmt(clsMISC|miscTAX, 0), stmt(clsLD|modeMEM, reg),
	}
	if g.opts.Unroll {
		return and(g.linktype(et), g.protochainUnrolled(v, p == int(kwIP6), start, ext, ah))
	}
	return and(g.linktype(et), g.jump(protochainLoop(v, p == int(kwIP6), start, ext, ah), opJEQ, v))
}

// protochainLoop lays out libpcap's walk as the statements of one block,
// with jumps inside it: at each header, stop at v or at "no next header",
// skip an IPv6 extension header or an AH and go back to the test, stop at
// anything else. The block's own jump then tests A against v.
func protochainLoop(v uint32, ip6 bool, start, ext, ah []bpf.RawInstruction) []bpf.RawInstruction {
	// The extension header tests, the header they skip and the jump back
	// to the top, or (IPv4) a statement that does nothing in their place.
	skip := 1
	if ip6 {
		skip = 4 + len(ext) + 1
	}
	top := len(start)
	ahAt := top + 2 + skip        // the AH test
	end := ahAt + 1 + len(ah) + 1 // the final "add #0"
	s := append([]bpf.RawInstruction(nil), start...)
	cond := func(k uint32, jt, jf int) {
		pc := len(s)
		s = append(s, bpf.RawInstruction{Op: clsJMP | opJEQ | srcK, K: k, Jt: uint8(jt - pc - 1), Jf: uint8(jf - pc - 1)})
	}
	back := func() {
		s = append(s, stmt(clsJMP|opJA, uint32(top-len(s)-1)))
	}
	cond(v, end, len(s)+1)
	cond(59, end, len(s)+1)
	if ip6 {
		body := len(s) + 4
		for _, hdr := range []uint32{0, 60, 43} {
			cond(hdr, body, len(s)+1)
		}
		cond(ipprotoFrag, body, ahAt)
		s = append(s, ext...)
		back()
	} else {
		s = append(s, stmt(clsALU|aluAdd|srcK, 0))
	}
	cond(ipprotoAH, len(s)+1, end)
	s = append(s, ah...)
	back()
	return append(s, stmt(clsALU|aluAdd|srcK, 0))
}

// protochainUnrolled is the walk with forward jumps only, repeated
// protochainDepth times. A packet whose chain goes on longer is accepted
// by the whole program (not just this test, which may be negated): the
// program then selects more packets than libpcap's, and the caller runs
// the looping program on the ones it accepts.
func (g *gen) protochainUnrolled(v uint32, ip6 bool, start, ext, ah []bpf.RawInstruction) frag {
	end := g.jump(nil, opJEQ, v)
	overflow := g.newBlock()
	overflow.kind, overflow.ret = bkRet, g.snaplen
	next := overflow
	// Build the iterations from the last to the first.
	for i := 0; i < protochainDepth; i++ {
		skipAH := g.newBlock()
		skipAH.kind = bkConst
		skipAH.stmts = ah
		skipAH.succ[0] = next
		isAH := g.jump(nil, opJEQ, ipprotoAH)
		isAH.entry.succ[0] = skipAH
		isAH.entry.succ[1] = end.entry
		chain := isAH.entry
		if ip6 {
			skipExt := g.newBlock()
			skipExt.kind = bkConst
			skipExt.stmts = ext
			skipExt.succ[0] = next
			for _, hdr := range []uint32{ipprotoFrag, 43, 60, 0} {
				b := g.jump(nil, opJEQ, hdr)
				b.entry.succ[0] = skipExt
				b.entry.succ[1] = chain
				chain = b.entry
			}
		}
		none := g.jump(nil, opJEQ, 59)
		none.entry.succ[0] = end.entry
		none.entry.succ[1] = chain
		found := g.jump(nil, opJEQ, v)
		found.entry.succ[0] = end.entry
		found.entry.succ[1] = none.entry
		next = found.entry
	}
	first := g.newBlock()
	first.kind = bkConst
	first.stmts = start
	first.succ[0] = next
	return frag{entry: first, t: end.t, f: end.f}
}

// lookupHost resolves a host name; tests replace it.
var lookupHost = func(name string) []netip.Addr { return resolveHost(name) }
