package filter

import (
	"net/netip"
	"strconv"
	"strings"
)

// tokKind classifies a token the way libpcap's scanner does.
type tokKind int

const (
	tEOF  tokKind = iota
	tID           // a name, possibly containing '-' and '.', or a \escaped name
	tNum          // a number: decimal, 0x hex or 0-prefixed octal
	tHID          // a dotted IPv4 address or prefix of one: 10, 10.1, 10.1.2.3
	tHID6         // an IPv6 address
	tEID          // a MAC address
	tKW           // a keyword
	tOp           // punctuation: ( ) [ ] : ! + - * / % & | ^ < > = <= >= != << >> && ||
)

// token is one lexical element of a filter expression.
type token struct {
	kind tokKind
	text string // the source text (for \name, the name without the backslash)
	pos  int    // byte offset in the expression
	kw   kw     // for tKW
	num  uint32 // for tNum and numeric keywords
	mac  [6]byte
	ip6  netip.Addr
}

// kw identifies a keyword.
type kw int

const (
	kwNone kw = iota
	kwDst
	kwSrc
	kwLink
	kwArp
	kwRarp
	kwIP
	kwSCTP
	kwTCP
	kwUDP
	kwICMP
	kwIGMP
	kwIGRP
	kwPIM
	kwVRRP
	kwCARP
	kwIP6
	kwICMP6
	kwAH
	kwESP
	kwAtalk
	kwAarp
	kwDecnet
	kwLat
	kwSca
	kwMoprc
	kwMopdl
	kwISO
	kwESIS
	kwISIS
	kwL1
	kwL2
	kwIIH
	kwLSP
	kwSNP
	kwCSNP
	kwPSNP
	kwCLNP
	kwSTP
	kwIPX
	kwNetbeui
	kwRadio
	kwHost
	kwNet
	kwMask
	kwPort
	kwPortrange
	kwProto
	kwProtochain
	kwGateway
	kwLess
	kwGreater
	kwByte
	kwBroadcast
	kwMulticast
	kwAnd
	kwOr
	kwNot
	kwLen
	kwInbound
	kwOutbound
	kwIfindex
	kwVlan
	kwMPLS
	kwPPPoED
	kwPPPoES
	kwGeneve
	kwLLC
	kwUnsupported // recognised by libpcap but not by this compiler
)

// keywords are the reserved words of the language.
var keywords = map[string]kw{
	"dst": kwDst, "src": kwSrc,
	"link": kwLink, "ether": kwLink, "ppp": kwLink, "slip": kwLink,
	"fddi": kwLink, "tr": kwLink, "wlan": kwLink,
	"arp": kwArp, "rarp": kwRarp, "ip": kwIP, "sctp": kwSCTP, "tcp": kwTCP,
	"udp": kwUDP, "icmp": kwICMP, "igmp": kwIGMP, "igrp": kwIGRP, "pim": kwPIM,
	"vrrp": kwVRRP, "carp": kwCARP, "radio": kwRadio, "ip6": kwIP6,
	"icmp6": kwICMP6, "ah": kwAH, "esp": kwESP, "atalk": kwAtalk,
	"aarp": kwAarp, "decnet": kwDecnet, "lat": kwLat, "sca": kwSca,
	"moprc": kwMoprc, "mopdl": kwMopdl, "iso": kwISO, "esis": kwESIS,
	"es-is": kwESIS, "isis": kwISIS, "is-is": kwISIS, "l1": kwL1, "l2": kwL2,
	"iih": kwIIH, "lsp": kwLSP, "snp": kwSNP, "csnp": kwCSNP, "psnp": kwPSNP,
	"clnp": kwCLNP, "stp": kwSTP, "ipx": kwIPX, "netbeui": kwNetbeui,
	"host": kwHost, "net": kwNet, "mask": kwMask, "port": kwPort,
	"portrange": kwPortrange, "proto": kwProto, "protochain": kwProtochain,
	"gateway": kwGateway, "less": kwLess, "greater": kwGreater,
	"byte": kwByte, "broadcast": kwBroadcast, "multicast": kwMulticast,
	"and": kwAnd, "or": kwOr, "not": kwNot, "len": kwLen, "length": kwLen,
	"inbound": kwInbound, "outbound": kwOutbound, "ifindex": kwIfindex,
	"vlan": kwVlan, "mpls": kwMPLS, "pppoed": kwPPPoED, "pppoes": kwPPPoES,
	"geneve": kwGeneve, "llc": kwLLC,
	// Recognised by libpcap for link types or fields this compiler does not
	// handle: they are refused rather than taken for host names.
	"type": kwUnsupported, "subtype": kwUnsupported, "direction": kwUnsupported,
	"dir": kwUnsupported, "address1": kwUnsupported, "addr1": kwUnsupported,
	"address2": kwUnsupported, "addr2": kwUnsupported, "address3": kwUnsupported,
	"addr3": kwUnsupported, "address4": kwUnsupported, "addr4": kwUnsupported,
	"ra": kwUnsupported, "ta": kwUnsupported, "lane": kwUnsupported,
	"metac": kwUnsupported, "bcc": kwUnsupported, "oam": kwUnsupported,
	"oamf4": kwUnsupported, "oamf4ec": kwUnsupported, "oamf4sc": kwUnsupported,
	"sc": kwUnsupported, "ilmic": kwUnsupported, "vpi": kwUnsupported,
	"vci": kwUnsupported, "connectmsg": kwUnsupported, "metaconnect": kwUnsupported,
	"on": kwUnsupported, "ifname": kwUnsupported, "rnr": kwUnsupported,
	"rulenum": kwUnsupported, "reason": kwUnsupported, "rset": kwUnsupported,
	"ruleset": kwUnsupported, "srnr": kwUnsupported, "subrulenum": kwUnsupported,
	"action": kwUnsupported, "fisu": kwUnsupported, "lssu": kwUnsupported,
	"msu": kwUnsupported, "hfisu": kwUnsupported, "hlssu": kwUnsupported,
	"hmsu": kwUnsupported, "sio": kwUnsupported, "opc": kwUnsupported,
	"dpc": kwUnsupported, "sls": kwUnsupported, "hsio": kwUnsupported,
	"hopc": kwUnsupported, "hdpc": kwUnsupported, "hsls": kwUnsupported,
}

// numericKeywords are names the scanner turns into numbers.
var numericKeywords = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4,
	"icmp-redirect": 5, "icmp-echo": 8, "icmp-routeradvert": 9,
	"icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12,
	"icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2,
	"icmp6-timeexceeded": 3, "icmp6-parameterproblem": 4,
	"icmp6-echo": 128, "icmp6-echoreply": 129,
	"icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
	"icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133,
	"icmp6-routeradvert": 134, "icmp6-neighborsolicit": 135,
	"icmp6-neighboradvert": 136, "icmp6-redirect": 137,
	"icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139,
	"icmp6-nodeinformationresponse": 140, "icmp6-ineighbordiscoverysolicit": 141,
	"icmp6-ineighbordiscoveryadvert": 142, "icmp6-multicastlistenerreportv2": 143,
	"icmp6-homeagentdiscoveryrequest": 144, "icmp6-homeagentdiscoveryreply": 145,
	"icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
	"icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
	"icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
	"icmp6-multicastrouterterm": 153,
	"tcpflags":                  13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04,
	"tcp-push": 0x08, "tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40,
	"tcp-cwr": 0x80,
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// lex splits expr into tokens. The longest match wins; on a tie the
// earlier of keyword, number, IPv4, MAC, IPv6, name wins, as in libpcap.
func lex(expr string) ([]token, error) {
	var toks []token
	i, depth := 0, 0
	for {
		for i < len(expr) && strings.IndexByte(" \t\r\n", expr[i]) >= 0 {
			i++
		}
		if i >= len(expr) {
			toks = append(toks, token{kind: tEOF, pos: i})
			return toks, nil
		}
		t, n, err := lexOne(expr, i)
		if err != nil {
			return nil, err
		}
		if t.kind == tOp && t.text == "(" {
			depth++
			if depth > maxNesting {
				return nil, errAt(i, "parentheses nested more than %d deep", maxNesting)
			}
		} else if t.kind == tOp && t.text == ")" {
			depth--
		}
		toks = append(toks, t)
		i += n
	}
}

// maxNesting bounds the depth of parentheses, and so the parser's
// recursion.
const maxNesting = 256

var twoCharOps = []string{">=", "<=", "!=", "==", "<<", ">>", "&&", "||"}

func lexOne(s string, i int) (token, int, error) {
	rest := s[i:]
	for _, op := range twoCharOps {
		if strings.HasPrefix(rest, op) {
			switch op {
			case "&&":
				return token{kind: tKW, kw: kwAnd, text: op, pos: i}, 2, nil
			case "||":
				return token{kind: tKW, kw: kwOr, text: op, pos: i}, 2, nil
			case "==":
				return token{kind: tOp, text: "=", pos: i}, 2, nil
			}
			return token{kind: tOp, text: op, pos: i}, 2, nil
		}
	}
	c := rest[0]
	if strings.HasPrefix(rest, "::") {
		if n, a := matchIP6(rest); n > 0 {
			return token{kind: tHID6, text: rest[:n], pos: i, ip6: a}, n, nil
		}
	}
	if strings.IndexByte("+-*/%:[]!<>()&|^=", c) >= 0 {
		return token{kind: tOp, text: string(c), pos: i}, 1, nil
	}
	if c == '\\' {
		n := 1
		for n < len(rest) && strings.IndexByte(" !()\n\t", rest[n]) < 0 {
			n++
		}
		if n == 1 {
			return token{}, 0, errAt(i, "illegal character '\\'")
		}
		return token{kind: tID, text: rest[1:n], pos: i}, n, nil
	}
	if !isAlnum(c) && c != ':' {
		return token{}, 0, errAt(i, "illegal character %q", rune(c))
	}

	// Candidate matches; keep the longest, earliest rule on ties.
	best := token{pos: i}
	bestLen := 0
	consider := func(t token, n int) {
		if n > bestLen {
			best, bestLen = t, n
		}
	}
	idLen := matchID(rest)
	if idLen > 0 {
		if k, ok := keywords[rest[:idLen]]; ok {
			consider(token{kind: tKW, kw: k, text: rest[:idLen], pos: i}, idLen)
		} else if v, ok := numericKeywords[rest[:idLen]]; ok {
			consider(token{kind: tNum, num: v, text: rest[:idLen], pos: i}, idLen)
		}
	}
	// A MAC address wins a tie with a number: twelve decimal digits are
	// a MAC address, as in libpcap.
	if n, mac := matchMAC(rest); n > 0 {
		consider(token{kind: tEID, text: rest[:n], pos: i, mac: mac}, n)
	}
	if n := matchNum(rest); n > 0 {
		consider(token{kind: tNum, text: rest[:n], pos: i}, n)
	}
	if n := matchHID(rest); n > 0 {
		consider(token{kind: tHID, text: rest[:n], pos: i}, n)
	}
	if n, a := matchIP6(rest); n > 0 {
		consider(token{kind: tHID6, text: rest[:n], pos: i, ip6: a}, n)
	}
	if idLen > 0 {
		consider(token{kind: tID, text: rest[:idLen], pos: i}, idLen)
	}
	if bestLen == 0 {
		return token{}, 0, errAt(i, "illegal token %q", rest[:1])
	}
	if best.kind == tNum && isDigit(best.text[0]) {
		v, err := parseNumber(best.text)
		if err != nil {
			return token{}, 0, errAt(i, "%v", err)
		}
		best.num = v
	}
	return best, bestLen, nil
}

// matchID matches [A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?.
func matchID(s string) int {
	if len(s) == 0 || !isAlnum(s[0]) {
		return 0
	}
	n := 1
	for n < len(s) && (isAlnum(s[n]) || s[n] == '-' || s[n] == '_' || s[n] == '.') {
		n++
	}
	for n > 1 && (s[n-1] == '-' || s[n-1] == '_') {
		n--
	}
	return n
}

// matchNum matches a decimal or 0x hexadecimal number.
func matchNum(s string) int {
	if len(s) >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		n := 3
		for n < len(s) && isHex(s[n]) {
			n++
		}
		return n
	}
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// matchHID matches N.N, N.N.N or N.N.N.N.
func matchHID(s string) int {
	n := matchNum(s)
	if n == 0 {
		return 0
	}
	end := 0
	parts := 1
	for parts < 4 && n < len(s) && s[n] == '.' {
		m := matchNum(s[n+1:])
		if m == 0 {
			break
		}
		n += 1 + m
		parts++
		end = n
	}
	return end
}

// matchMAC matches xx:xx:xx:xx:xx:xx (also with '-' or '.' separators and
// one-digit groups), xxxx.xxxx.xxxx and xxxxxxxxxxxx.
func matchMAC(s string) (int, [6]byte) {
	var mac [6]byte
	// xxxxxxxxxxxx
	if len(s) >= 12 {
		ok := true
		for j := 0; j < 12; j++ {
			ok = ok && isHex(s[j])
		}
		if ok {
			for k := 0; k < 6; k++ {
				v, _ := strconv.ParseUint(s[2*k:2*k+2], 16, 8)
				mac[k] = byte(v)
			}
			return 12, mac
		}
	}
	// xxxx.xxxx.xxxx
	if len(s) >= 14 {
		ok := true
		for j := 0; j < 14; j++ {
			if j == 4 || j == 9 {
				ok = ok && s[j] == '.'
			} else {
				ok = ok && isHex(s[j])
			}
		}
		if ok {
			h := s[0:4] + s[5:9] + s[10:14]
			for k := 0; k < 6; k++ {
				v, _ := strconv.ParseUint(h[2*k:2*k+2], 16, 8)
				mac[k] = byte(v)
			}
			return 14, mac
		}
	}
	for _, sep := range []byte{':', '-', '.'} {
		n := 0
		k := 0
		for ; k < 6; k++ {
			if k > 0 {
				if n >= len(s) || s[n] != sep {
					break
				}
				n++
			}
			m := 0
			for m < 2 && n+m < len(s) && isHex(s[n+m]) {
				m++
			}
			if m == 0 {
				break
			}
			v, _ := strconv.ParseUint(s[n:n+m], 16, 8)
			mac[k] = byte(v)
			n += m
		}
		if k == 6 {
			return n, mac
		}
	}
	return 0, mac
}

// matchIP6 matches the longest prefix of s that is an IPv6 address.
func matchIP6(s string) (int, netip.Addr) {
	n := 0
	colons := 0
	for n < len(s) && (isHex(s[n]) || s[n] == ':' || s[n] == '.') {
		if s[n] == ':' {
			colons++
		}
		n++
	}
	if colons < 2 {
		return 0, netip.Addr{}
	}
	for ; n > 0; n-- {
		if a, err := netip.ParseAddr(s[:n]); err == nil && a.Is6() && a.Zone() == "" {
			return n, a
		}
	}
	return 0, netip.Addr{}
}

// parseNumber converts a number as libpcap does: 0x hex, leading-0 octal,
// otherwise decimal; it must fit in 32 bits.
func parseNumber(s string) (uint32, error) {
	base := 10
	digits := s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
		for _, c := range digits {
			if c > '7' {
				return 0, errNum("number %s contains non-octal digit", s)
			}
		}
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, errNum("number %s overflows 32 bits", s)
	}
	return uint32(v), nil
}

type numError string

func (e numError) Error() string { return string(e) }

func errNum(format string, s string) error {
	return numError(strings.Replace(format, "%s", s, 1))
}
