package filter

import (
	"fmt"
	"net/netip"
	"strings"
)

// Qualifier values. A primitive such as "tcp src port 80" has a protocol
// (tcp), a direction (src) and an address type (port); missing ones are
// qDefault. qUndef marks the qualifiers after a primitive that has none to
// pass on (a relation, a bare protocol): a value inheriting them is an
// error.
const (
	qDefault = 0
	qUndef   = -1
)

// Directions.
const (
	dirSrc = iota + 1
	dirDst
	dirOr
	dirAnd
)

// Address types.
const (
	addrHost = iota + 1
	addrNet
	addrPort
	addrPortrange
	addrProto
	addrProtochain
	addrGateway
)

// qual is the qualifiers of a primitive. proto is a protocol keyword
// (kwIP, kwTCP, kwLink, ...) or qDefault/qUndef.
type qual struct {
	proto int
	dir   int
	addr  int
	word  string // the last qualifier word, for messages
}

var qerr = qual{proto: qUndef, dir: qUndef, addr: qUndef}

// node is a boolean expression.
type node interface{ position() int }

// nBool is "l and r" or "l or r".
type nBool struct {
	or   bool
	l, r node
	pos  int
}

// nNot is "not x".
type nNot struct {
	x   node
	pos int
}

// valueKind is the kind of value of a qualified primitive.
type valueKind int

const (
	vNum     valueKind = iota // 80, 10
	vHID                      // 10.1 or 10.0.0.1
	vHIDLen                   // 10.0.0.0/8
	vHIDMask                  // 10.0.0.0 mask 255.0.0.0
	vHID6                     // 2001:db8::1 or 2001:db8::/32
	vEID                      // 00:11:22:33:44:55
	vName                     // http, example.com, \tcp
)

// nPrim is a qualified value: "src host 10.0.0.1", "port 80", "proto \tcp".
type nPrim struct {
	q     qual
	kind  valueKind
	num   uint32 // vNum; prefix length for vHIDLen and vHID6
	text  string // the value as written
	text2 string // the mask of vHIDMask
	ip6   netip.Addr
	mac   [6]byte
	pos   int
}

// nProto is a bare protocol name: "tcp", "ip6", "stp".
type nProto struct {
	proto int
	pos   int
}

// nRel compares two arithmetic expressions: op is a BPF jump (jgt, jge,
// jeq), negated when rev is set ("<=" is "not >").
type nRel struct {
	op   uint16
	rev  bool
	l, r arith
	pos  int
}

// nOther is a keyword primitive: broadcast, multicast, less, greater,
// inbound, outbound, vlan, mpls, pppoed, pppoes, llc, ifindex.
type nOther struct {
	what  kw
	proto int // protocol qualifier of broadcast/multicast
	num   uint32
	has   bool // num was given
	// name is the frame type of "llc NAME" (i, s, u, rr, ui, ...)
	name string
	// byte NUM op NUM
	byteOp string
	val    uint32
	pos    int
}

func (n *nBool) position() int  { return n.pos }
func (n *nNot) position() int   { return n.pos }
func (n *nPrim) position() int  { return n.pos }
func (n *nProto) position() int { return n.pos }
func (n *nRel) position() int   { return n.pos }
func (n *nOther) position() int { return n.pos }

// arith is an arithmetic expression.
type arith interface{ position() int }

type aNum struct {
	v   uint32
	pos int
}

type aLen struct{ pos int }

// aLoad is proto[idx:size].
type aLoad struct {
	proto int
	idx   arith
	size  int
	pos   int
}

// aBin is l op r with op a BPF ALU operation.
type aBin struct {
	op   uint16
	l, r arith
	pos  int
}

type aNeg struct {
	x   arith
	pos int
}

func (a *aNum) position() int  { return a.pos }
func (a *aLen) position() int  { return a.pos }
func (a *aLoad) position() int { return a.pos }
func (a *aBin) position() int  { return a.pos }
func (a *aNeg) position() int  { return a.pos }

// parser is a recursive-descent parser for libpcap's grammar, backtracking
// where libpcap's LALR parser decides on a later token.
type parser struct {
	toks []token
	i    int
}

// parse parses a whole expression; an empty one gives a nil node.
func parse(expr string) (node, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.tok().kind == tEOF {
		return nil, nil
	}
	n, _, err := p.expr(qerr)
	if err != nil {
		return nil, err
	}
	if t := p.tok(); t.kind != tEOF {
		return nil, p.unexpected("\"and\", \"or\" or the end of the expression")
	}
	return n, nil
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) isOp(op string) bool {
	t := p.tok()
	return t.kind == tOp && t.text == op
}

func (p *parser) isKW(k kw) bool {
	t := p.tok()
	return t.kind == tKW && t.kw == k
}

func describe(t token) string {
	if t.kind == tEOF {
		return "the end of the expression"
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) unexpected(what string) error {
	t := p.tok()
	if p.i > 0 {
		prev := p.toks[p.i-1]
		return errAt(t.pos, "expected %s after %q, got %s", what, prev.text, describe(t))
	}
	return errAt(t.pos, "expected %s, got %s", what, describe(t))
}

// furthest returns whichever error is further into the expression.
func furthest(a, b error) error {
	pa, ok1 := a.(*posError)
	pb, ok2 := b.(*posError)
	if ok1 && ok2 && pb.pos > pa.pos {
		return b
	}
	return a
}

func isAndOr(t token) (or, ok bool) {
	if t.kind == tKW && (t.kw == kwAnd || t.kw == kwOr) {
		return t.kw == kwOr, true
	}
	return false, false
}

func isNot(t token) bool {
	return (t.kind == tKW && t.kw == kwNot) || (t.kind == tOp && t.text == "!")
}

// expr: term { (and|or) (term|id) }.
func (p *parser) expr(q qual) (node, qual, error) {
	n, q, err := p.term(q)
	if err != nil {
		return nil, q, err
	}
	for {
		or, ok := isAndOr(p.tok())
		if !ok {
			return n, q, nil
		}
		opPos := p.tok().pos
		p.i++
		save := p.i
		r, q2, err := p.term(q)
		if err != nil {
			p.i = save
			var err2 error
			r, q2, err2 = p.id(q)
			if err2 != nil {
				if p.tok().kind == tEOF && p.i == save {
					return nil, q, errAt(p.tok().pos, "expected an expression after %q, got the end of the expression", p.toks[save-1].text)
				}
				return nil, q, furthest(err, err2)
			}
		}
		n = &nBool{or: or, l: n, r: r, pos: opPos}
		q = q2
	}
}

// term: not term | rterm.
func (p *parser) term(q qual) (node, qual, error) {
	if t := p.tok(); isNot(t) {
		p.i++
		x, q2, err := p.term(q)
		if err != nil {
			return nil, q, err
		}
		return &nNot{x: x, pos: t.pos}, q2, nil
	}
	return p.rterm(q)
}

func isPname(t token) bool {
	return t.kind == tKW && t.kw >= kwLink && t.kw <= kwRadio
}

func isHeadWord(t token) bool {
	if t.kind != tKW {
		return false
	}
	switch t.kw {
	case kwSrc, kwDst, kwHost, kwNet, kwPort, kwPortrange, kwProto, kwProtochain, kwGateway:
		return true
	}
	return false
}

func (p *parser) rterm(q qual) (node, qual, error) {
	t := p.tok()
	switch {
	case t.kind == tOp && t.text == "(":
		save := p.i
		p.i++
		e, _, err := p.expr(q)
		if err == nil {
			if !p.isOp(")") {
				err = p.unexpected("\"and\", \"or\" or \")\"")
			} else {
				p.i++
				if !p.arithContinues() {
					return e, q, nil
				}
			}
		}
		p.i = save
		r, err2 := p.relation()
		if err2 != nil {
			if err == nil {
				return nil, q, err2
			}
			return nil, q, furthest(err, err2)
		}
		return r, qerr, nil
	case isPname(t):
		next := p.peek(1)
		switch {
		case next.kind == tOp && next.text == "[":
			r, err := p.relation()
			return r, qerr, err
		case isHeadWord(next):
			return p.headID()
		case next.kind == tKW && (next.kw == kwBroadcast || next.kw == kwMulticast):
			p.i += 2
			return &nOther{what: next.kw, proto: int(t.kw), pos: t.pos}, qerr, nil
		}
		p.i++
		return &nProto{proto: int(t.kw), pos: t.pos}, qerr, nil
	case isHeadWord(t):
		return p.headID()
	case t.kind == tNum || (t.kind == tOp && t.text == "-") || (t.kind == tKW && t.kw == kwLen):
		r, err := p.relation()
		return r, qerr, err
	case t.kind == tKW:
		n, err := p.other()
		return n, qerr, err
	}
	switch {
	case t.kind == tID && strings.Contains(t.text, "-"):
		return nil, q, errAt(t.pos, "expected a filter primitive, got the name %q (put spaces around '-' to subtract)", t.text)
	case t.kind == tHID || t.kind == tHID6 || t.kind == tEID:
		return nil, q, errAt(t.pos, "expected a filter primitive, got the address %q (qualify it: \"host %s\")", t.text, t.text)
	}
	return nil, q, p.unexpected("a filter primitive")
}

// arithContinues reports whether the current token continues an
// arithmetic expression or starts a comparison.
func (p *parser) arithContinues() bool {
	t := p.tok()
	if t.kind != tOp {
		return false
	}
	switch t.text {
	case "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "<", ">", "<=", ">=", "=", "!=":
		return true
	}
	return false
}

func (p *parser) other() (node, error) {
	t := p.tok()
	n := &nOther{what: t.kw, pos: t.pos}
	p.i++
	switch t.kw {
	case kwBroadcast, kwMulticast, kwInbound, kwOutbound, kwPPPoED:
		return n, nil
	case kwLLC:
		// "llc NAME" names a frame type; "rnr" is a keyword of its own.
		if t := p.tok(); t.kind == tID || (t.kind == tKW && t.text == "rnr") {
			n.name, n.has = t.text, true
			p.i++
		}
		return n, nil
	case kwLess, kwGreater, kwIfindex:
		if p.tok().kind != tNum {
			return nil, p.unexpected("a number")
		}
		n.num, n.has = p.tok().num, true
		p.i++
		return n, nil
	case kwVlan, kwMPLS, kwPPPoES, kwGeneve:
		if p.tok().kind == tNum || p.isOp("(") {
			v, err := p.pnum()
			if err != nil {
				return nil, err
			}
			n.num, n.has = v, true
		}
		return n, nil
	case kwByte:
		if p.tok().kind != tNum {
			return nil, p.unexpected("a byte offset")
		}
		n.num = p.tok().num
		p.i++
		op := p.tok()
		if op.kind != tOp || (op.text != "&" && op.text != "|" && op.text != "<" && op.text != ">" && op.text != "=") {
			return nil, p.unexpected("one of & | < > =")
		}
		n.byteOp = op.text
		p.i++
		if p.tok().kind != tNum {
			return nil, p.unexpected("a number")
		}
		n.val = p.tok().num
		p.i++
		return n, nil
	case kwUnsupported:
		return nil, errAt(t.pos, "%q is not supported", t.text)
	}
	p.i--
	return nil, p.unexpected("a filter primitive")
}

// pnum: NUM | ( pnum ).
func (p *parser) pnum() (uint32, error) {
	if p.isOp("(") {
		p.i++
		v, err := p.pnum()
		if err != nil {
			return 0, err
		}
		if !p.isOp(")") {
			return 0, p.unexpected("\")\"")
		}
		p.i++
		return v, nil
	}
	if p.tok().kind != tNum {
		return 0, p.unexpected("a number")
	}
	v := p.tok().num
	p.i++
	return v, nil
}

// headID parses qualifiers followed by a value.
func (p *parser) headID() (node, qual, error) {
	q := qual{}
	if isPname(p.tok()) {
		q.proto = int(p.tok().kw)
		q.word = p.tok().text
		p.i++
	}
	dir := false
	if p.isKW(kwSrc) || p.isKW(kwDst) {
		first := p.tok().kw
		q.word = p.tok().text
		p.i++
		q.dir = dirSrc
		if first == kwDst {
			q.dir = dirDst
		}
		if or, ok := isAndOr(p.tok()); ok {
			n := p.peek(1)
			if n.kind == tKW && (n.kw == kwSrc || n.kw == kwDst) && n.kw != first {
				q.dir = dirAnd
				if or {
					q.dir = dirOr
				}
				q.word = n.text
				p.i += 2
			}
		}
		dir = true
	}
	t := p.tok()
	if t.kind == tKW {
		addr := 0
		switch t.kw {
		case kwHost:
			addr = addrHost
		case kwNet:
			addr = addrNet
		case kwPort:
			addr = addrPort
		case kwPortrange:
			addr = addrPortrange
		case kwProto, kwProtochain, kwGateway:
			if !dir {
				addr = map[kw]int{kwProto: addrProto, kwProtochain: addrProtochain, kwGateway: addrGateway}[t.kw]
			}
		}
		if addr != 0 {
			q.addr = addr
			q.word = t.text
			p.i++
		}
	}
	n, q, err := p.id(q)
	return n, q, err
}

// id: nid | pnum | ( pid ).
func (p *parser) id(q qual) (node, qual, error) {
	t := p.tok()
	switch {
	case isNot(t):
		p.i++
		x, _, err := p.id(q)
		if err != nil {
			return nil, q, err
		}
		return &nNot{x: x, pos: t.pos}, q, nil
	case t.kind == tNum:
		p.i++
		return &nPrim{q: q, kind: vNum, num: t.num, text: t.text, pos: t.pos}, q, nil
	case t.kind == tOp && t.text == "(":
		p.i++
		n, err := p.pid(q)
		if err != nil {
			return nil, q, err
		}
		if !p.isOp(")") {
			return nil, q, p.unexpected("\")\"")
		}
		p.i++
		return n, q, nil
	}
	n, err := p.nid(q)
	return n, q, err
}

// pid: (pnum | nid) { (and|or) id }, inside parentheses.
func (p *parser) pid(q qual) (node, error) {
	var n node
	t := p.tok()
	switch {
	case t.kind == tNum || (t.kind == tOp && t.text == "("):
		v, err := p.pnum()
		if err != nil {
			return nil, err
		}
		n = &nPrim{q: q, kind: vNum, num: v, text: fmt.Sprint(v), pos: t.pos}
	default:
		var err error
		if n, err = p.nid(q); err != nil {
			return nil, err
		}
	}
	for {
		or, ok := isAndOr(p.tok())
		if !ok {
			return n, nil
		}
		pos := p.tok().pos
		p.i++
		r, _, err := p.id(q)
		if err != nil {
			return nil, err
		}
		n = &nBool{or: or, l: n, r: r, pos: pos}
	}
}

// nid: ID | HID [/NUM | mask HID] | HID6 [/NUM] | EID | not id.
func (p *parser) nid(q qual) (node, error) {
	t := p.tok()
	n := &nPrim{q: q, text: t.text, pos: t.pos}
	switch t.kind {
	case tID:
		n.kind = vName
	case tHID:
		n.kind = vHID
		if p.peek(1).kind == tOp && p.peek(1).text == "/" {
			p.i += 2
			if p.tok().kind != tNum {
				return nil, p.unexpected("a prefix length")
			}
			n.kind, n.num = vHIDLen, p.tok().num
		} else if p.peek(1).kind == tKW && p.peek(1).kw == kwMask {
			p.i += 2
			if p.tok().kind != tHID {
				return nil, p.unexpected("a network mask")
			}
			n.kind, n.text2 = vHIDMask, p.tok().text
		}
	case tHID6:
		n.kind, n.ip6, n.num = vHID6, t.ip6, 128
		if p.peek(1).kind == tOp && p.peek(1).text == "/" {
			p.i += 2
			if p.tok().kind != tNum {
				return nil, p.unexpected("a prefix length")
			}
			n.num = p.tok().num
		}
	case tEID:
		n.kind, n.mac = vEID, t.mac
	default:
		if isNot(t) {
			p.i++
			x, _, err := p.id(q)
			if err != nil {
				return nil, err
			}
			return &nNot{x: x, pos: t.pos}, nil
		}
		if (q.addr == addrProto || q.addr == addrProtochain) && t.kind == tKW {
			return nil, errAt(t.pos, "expected a protocol number after %q, got the keyword %q (write \\%s for the protocol name)", p.toks[p.i-1].text, t.text, t.text)
		}
		return nil, p.unexpected(expectedValue(q))
	}
	p.i++
	return n, nil
}

func expectedValue(q qual) string {
	switch q.addr {
	case addrHost:
		return "a host address"
	case addrNet:
		return "a network address"
	case addrPort:
		return "a port number"
	case addrPortrange:
		return "a port range"
	case addrProto, addrProtochain:
		return "a protocol number"
	}
	return "a value"
}

// relation: arith relop arith.
func (p *parser) relation() (node, error) {
	l, err := p.arith(1)
	if err != nil {
		return nil, err
	}
	t := p.tok()
	r := &nRel{pos: t.pos}
	if t.kind != tOp {
		return nil, p.unexpected("a comparison")
	}
	switch t.text {
	case ">":
		r.op = opJGT
	case ">=":
		r.op = opJGE
	case "=":
		r.op = opJEQ
	case "<=":
		r.op, r.rev = opJGT, true
	case "<":
		r.op, r.rev = opJGE, true
	case "!=":
		r.op, r.rev = opJEQ, true
	default:
		return nil, p.unexpected("a comparison")
	}
	p.i++
	rhs, err := p.arith(1)
	if err != nil {
		return nil, err
	}
	r.l, r.r = l, rhs
	return r, nil
}

// Binding power of binary operators; '%' and '^' have none in libpcap's
// grammar and are handled in unary.
func binPrec(t token) (int, uint16) {
	if t.kind != tOp {
		return 0, 0
	}
	switch t.text {
	case "|":
		return 1, aluOr
	case "&":
		return 2, aluAnd
	case "<<":
		return 3, aluLsh
	case ">>":
		return 3, aluRsh
	case "+":
		return 4, aluAdd
	case "-":
		return 4, aluSub
	case "*":
		return 5, aluMul
	case "/":
		return 5, aluDiv
	}
	return 0, 0
}

func (p *parser) arith(minPrec int) (arith, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.tok()
		prec, op := binPrec(t)
		if prec == 0 || prec < minPrec {
			return l, nil
		}
		p.i++
		r, err := p.arith(prec + 1)
		if err != nil {
			return nil, err
		}
		l = &aBin{op: op, l: l, r: r, pos: t.pos}
	}
}

// unary parses a unary minus or a primary. libpcap's grammar gives '%'
// and '^' no precedence, so yacc always shifts them: they take the
// primary before them and the whole arithmetic expression after them.
func (p *parser) unary() (arith, error) {
	t := p.tok()
	if t.kind == tOp && t.text == "-" {
		p.i++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &aNeg{x: x, pos: t.pos}, nil
	}
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	if t := p.tok(); t.kind == tOp && (t.text == "%" || t.text == "^") {
		p.i++
		r, err := p.arith(1)
		if err != nil {
			return nil, err
		}
		op := uint16(aluMod)
		if t.text == "^" {
			op = aluXor
		}
		return &aBin{op: op, l: x, r: r, pos: t.pos}, nil
	}
	return x, nil
}

func (p *parser) primary() (arith, error) {
	t := p.tok()
	switch {
	case t.kind == tNum:
		p.i++
		return &aNum{v: t.num, pos: t.pos}, nil
	case t.kind == tKW && t.kw == kwLen:
		p.i++
		return &aLen{pos: t.pos}, nil
	case t.kind == tOp && t.text == "(":
		p.i++
		x, err := p.arith(1)
		if err != nil {
			return nil, err
		}
		if !p.isOp(")") {
			return nil, p.unexpected("\")\"")
		}
		p.i++
		return x, nil
	case isPname(t) && p.peek(1).kind == tOp && p.peek(1).text == "[":
		p.i += 2
		idx, err := p.arith(1)
		if err != nil {
			return nil, err
		}
		size := 1
		if p.isOp(":") {
			p.i++
			st := p.tok()
			if st.kind != tNum {
				return nil, p.unexpected("a size (1, 2 or 4)")
			}
			if st.num != 1 && st.num != 2 && st.num != 4 {
				return nil, errAt(st.pos, "data size must be 1, 2, or 4, got %s", st.text)
			}
			size = int(st.num)
			p.i++
		}
		if !p.isOp("]") {
			return nil, p.unexpected("\"]\"")
		}
		p.i++
		return &aLoad{proto: int(t.kw), idx: idx, size: size, pos: t.pos}, nil
	}
	return nil, p.unexpected("a number, \"len\" or a packet access such as ip[0]")
}
