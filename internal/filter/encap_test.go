package filter

import (
	"errors"
	"strings"
	"testing"
)

// geneveHdr is a Geneve header (version, options, protocol type, VNI)
// followed by payload.
func geneveHdr(version byte, opts []byte, proto int, vni uint32, payload []byte) []byte {
	return cat([]byte{version<<6 | byte(len(opts)/4), 0}, be16(proto), be32(vni<<8), opts, payload)
}

// dot3Frame is an 802.3 frame: a length instead of a type.
func dot3Frame(payload []byte) []byte {
	return etherFrame("66:77:88:99:aa:bb", "00:11:22:33:44:55", len(payload), payload)
}

// TestLLCISISDECnetGeneveVerdicts checks the LLC frame types, the IS-IS
// PDU types, DECnet addresses and Geneve on hand-built packets.
func TestLLCISISDECnetGeneveVerdicts(t *testing.T) {
	eth := func(et int, p []byte) []byte { return etherFrame("66:77:88:99:aa:bb", "00:11:22:33:44:55", et, p) }
	llcFrame := func(ctrl ...byte) []byte { return dot3Frame(cat([]byte{0x04, 0x05}, ctrl, make([]byte, 12))) }
	isis := func(pdu byte) []byte {
		return dot3Frame(cat([]byte{0xfe, 0xfe, 0x03, 0x83, 27, 1, 0, pdu, 1, 0, 0}, make([]byte, 20)))
	}
	// DECnet data packets from 10.5 (0x2805) to 1.2 (0x0402), addresses
	// little-endian: short header, then long header after a pad byte.
	dnShort := eth(etherDECnet, cat(be16(8), []byte{0x02, 0x02, 0x04, 0x05, 0x28}, make([]byte, 3)))
	dnLong := eth(etherDECnet, cat(be16(25), []byte{0x81, 0x06, 0, 0, 0xaa, 0, 4, 0, 0x02, 0x04, 0, 0},
		[]byte{0xaa, 0, 4, 0, 0x05, 0x28}, make([]byte, 6)))

	inner := eth(etherIP, ipv4Pkt("10.9.0.1", "10.9.0.2", 6, 0, 5, tcpSeg(40000, 80, 0x02)))
	opts := []byte{1, 2, 3, 1, 0xaa, 0xbb, 0xcc, 0xdd}
	gnv := eth(etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 17, 0, 5, cat(be16(50000), be16(6081), be16(0), be16(0),
		geneveHdr(0, opts, 0x6558, 5, inner))))
	gnvBare := eth(etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 17, cat(be16(50000), be16(6081), be16(0), be16(0),
		geneveHdr(0, nil, etherIP, 1, ipv4Pkt("10.9.0.1", "10.9.0.2", 17, 0, 5, udpDgram(53, 53, 4))))))
	gnvV1 := eth(etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 17, 0, 5, cat(be16(50000), be16(6081), be16(0), be16(0),
		geneveHdr(1, nil, 0x6558, 5, inner))))

	cases := []struct {
		expr string
		pkt  []byte
		want bool
	}{
		{"llc i", llcFrame(0x02, 0x04), true},
		{"llc i", llcFrame(0x01, 0x00), false},
		{"llc s", llcFrame(0x01, 0x00), true},
		{"llc rr", llcFrame(0x01, 0x00), true},
		{"llc rnr", llcFrame(0x05, 0x00), true},
		{"llc REJ", llcFrame(0x09, 0x00), true},
		{"llc rr", llcFrame(0x05, 0x00), false},
		{"llc u", llcFrame(0x03), true},
		{"llc ui", llcFrame(0x13), true}, // the poll/final bit is ignored
		{"llc xid", llcFrame(0xbf), true},
		{"llc ua or llc disc", llcFrame(0x43), true},
		{"llc sabme", llcFrame(0x6f), true},
		{"llc test", llcFrame(0xaf), false},
		{"llc i", eth(etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 5, tcpSeg(1, 2, 2))), false},
		{"l1", isis(15), true},
		{"l1", isis(17), true},
		{"l2", isis(17), true},
		{"l2", isis(18), false},
		{"iih", isis(16), true},
		{"lsp", isis(20), true},
		{"snp", isis(26), true},
		{"csnp", isis(26), false},
		{"psnp", isis(27), true},
		{"isis proto 24", isis(24), true},
		{"decnet host 1.2", dnShort, true},
		{"decnet src 10.5", dnShort, true},
		{"decnet dst 10.5", dnShort, false},
		{"decnet dst 1.2", dnLong, true},
		{"decnet src 10.5 and decnet dst 1.2", dnLong, true},
		{"decnet host 1.3", dnLong, false},
		{"decnet host 1026", dnShort, true},
		{"geneve", gnv, true},
		{"geneve 5", gnv, true},
		{"geneve 6", gnv, false},
		{"geneve and tcp dst port 80", gnv, true},
		{"geneve and ip src 10.9.0.1", gnv, true},
		{"geneve and ether src 00:11:22:33:44:55", gnv, true},
		{"geneve and udp", gnv, false},
		{"geneve", gnvV1, false},
		{"geneve 1 and udp port 53", gnvBare, true},
		{"geneve and ether host 00:11:22:33:44:55", gnvBare, false},
		{"geneve and ether broadcast", gnvBare, false},
		{"geneve and ip", gnvBare, true},
		{"geneve or ip", dnShort, false},
		{"udp port 6081 and not geneve 2", gnv, true},
	}
	for _, c := range cases {
		expectVerdict(t, c.expr, c.pkt, c.want)
	}
}

// TestLLCISISDECnetGeneveErrors checks the refusals, which are libpcap's.
func TestLLCISISDECnetGeneveErrors(t *testing.T) {
	cases := []struct {
		lt   uint32
		expr string
		msg  string
	}{
		{LinkTypeEthernet, "llc foo", `unknown LLC frame type "foo"`},
		{LinkTypeRaw, "llc foo", `unknown LLC frame type "foo"`},
		{LinkTypeRaw, "llc i", "'llc' not supported for Raw IP"},
		{LinkTypeLinuxSLL, "llc ui", "'llc' not supported for Linux cooked v1"},
		{LinkTypeEthernet, "pppoes and llc rr", "'llc' not supported for PPP"},
		{LinkTypeEthernet, "llc 5", `expected "and", "or" or the end of the expression`},
		{LinkTypeRaw, "decnet host 1.2", "expression rejects all packets"},
		{LinkTypeNull, "l1", "expression rejects all packets"},
		{LinkTypeEthernet, "decnet host 0x1.2", `malformed DECnet address "0x1.2"`},
		{LinkTypeEthernet, "decnet host foo", "DECnet host names are not supported"},
		{LinkTypeEthernet, "decnet proto 5", "DECnet encapsulation is not specifiable"},
		{LinkTypeEthernet, "decnet port 5", "illegal qualifier of 'port'"},
		{LinkTypeEthernet, "decnet host ::1", "'decnet' modifier applied to ip6 host"},
		{LinkTypeEthernet, "mpls and decnet host 1.2", "unsupported protocol over mpls"},
		{LinkTypeEthernet, "l1 proto 20", "'l1 proto' is not valid"},
		{LinkTypeEthernet, "esis proto 20", "'esis proto' is not valid"},
		{LinkTypeEthernet, "lsp host 1.2.3.4", "'lsp' modifier applied to host"},
		{LinkTypeEthernet, "geneve 16777216", "Geneve VNI 16777216 greater than maximum 16777215"},
		{LinkTypeEthernet, "geneve and protochain 6", "'protochain' not supported with variable length headers"},
		{LinkTypeEthernet, strings.Repeat("geneve and ", 5) + "geneve", "too many registers"},
	}
	for _, c := range cases {
		_, err := Compile(c.lt, 0, c.expr)
		var fe *Error
		if !errors.As(err, &fe) || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("Compile(%s, %q) = %v, want ...%s...", linkTypeName(c.lt), c.expr, err, c.msg)
		}
	}
}

// TestGeneveOffsets checks that what follows geneve reads the
// encapsulated packet on every link type, and that geneve is accepted
// wherever an IP packet can be.
func TestGeneveOffsets(t *testing.T) {
	inner := etherFrame("66:77:88:99:aa:bb", "00:11:22:33:44:55", etherIP, ipv4Pkt("10.9.0.1", "10.9.0.2", 6, 0, 5, tcpSeg(40000, 80, 0x02)))
	ip := ipv4Pkt("10.0.0.1", "10.0.0.2", 17, 0, 6, cat(be16(50000), be16(6081), be16(0), be16(0), geneveHdr(0, []byte{0, 0, 0, 0}, 0x6558, 9, inner)))
	headers := map[uint32][]byte{
		LinkTypeEthernet:  cat(mac("66:77:88:99:aa:bb"), mac("00:11:22:33:44:55"), be16(etherIP)),
		LinkTypeLinuxSLL:  cat(be16(0), be16(1), be16(6), mac("00:11:22:33:44:55"), be16(0), be16(etherIP)),
		LinkTypeLinuxSLL2: cat(be16(etherIP), be16(0), be32(2), be16(1), []byte{0, 6}, mac("00:11:22:33:44:55"), be16(0)),
		LinkTypeRaw:       nil,
		LinkTypeLoop:      be32(2),
	}
	for lt, h := range headers {
		pkt := cat(h, ip)
		for expr, want := range map[string]bool{
			"geneve 9 and tcp port 80":               true,
			"geneve and ip dst 10.9.0.2":             true,
			"geneve and ether dst 66:77:88:99:aa:bb": true,
			"geneve and udp":                         false,
			"geneve and ip6":                         false,
		} {
			prog, err := Compile(lt, 0, expr)
			if err != nil {
				t.Fatalf("%s %q: %v", linkTypeName(lt), expr, err)
			}
			checkProgram(t, prog)
			if got := run(prog, pkt, len(pkt), meta{}) != 0; got != want {
				t.Errorf("%s %q: %v, want %v\n%s", linkTypeName(lt), expr, got, want, disasm(prog))
			}
		}
	}
}
