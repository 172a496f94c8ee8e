// Package filter compiles pcap-filter(7) expressions into classic BPF
// programs with libpcap's semantics, without cgo.
//
// # Use
//
//	prog, err := filter.Compile(filter.LinkTypeEthernet, 0, "tcp port 80 or 443")
//
// The program returns the snapshot length (DefaultSnaplen when none is
// given) for a packet the expression accepts and 0 for one it rejects;
// the empty expression accepts everything. Errors about the expression are
// *Error values locating the offending token:
//
//	filter: 1:10: expected a port number after "port", got "foo"
//
// Link types: Ethernet (1), Linux cooked capture v1 (113) and v2 (276), raw
// IP (101), BSD loopback (0) and OpenBSD loopback (108).
//
// # The language
//
// The grammar is libpcap's, with its quirks: "and" and "or" have the same
// precedence and associate to the left; a bare value inherits the qualifiers
// of the primitive before it ("host a or b", "tcp port 80 or 443"), "not"
// excepted; names may contain '-' and '.', so "len-1" is one name; "%" and
// "^" take everything to their right. Supported: ether, ip, ip6, arp, rarp,
// tcp, udp, sctp, icmp, icmp6, igmp, igrp, pim, vrrp, carp, ah, esp, stp,
// llc and its frame types (i, s, u, rr, rnr, rej, ui, ua, disc, dm, sabme,
// test, xid, frmr), ipx, netbeui, iso (esis, isis, clnp), the IS-IS PDU
// types (l1, l2, iih, lsp, snp, csnp, psnp, isis proto), decnet, lat, sca,
// moprc, mopdl, atalk, aarp; host, net (with /len, mask, or abbreviated),
// port, portrange, proto, protochain with src, dst, src or dst, src and dst;
// DECnet host AREA.NODE; ether host/src/dst; broadcast, multicast; less,
// greater, len, arithmetic and comparisons, proto[expr:size] and the named
// constants (tcpflags, tcp-syn, icmptype, icmp-echo, icmp6type, ...); vlan,
// mpls, pppoes and geneve (which move every later offset), pppoed; inbound,
// outbound, ifindex; byte; port, protocol and host names.
//
// # Structure
//
// A lexer produces libpcap's tokens; a recursive-descent parser builds an
// AST, backtracking where libpcap's LALR parser decides on a later token;
// the generator walks the AST left to right (vlan, mpls, pppoes and geneve
// change offsets as they are met; after geneve, the offsets of the
// encapsulated packet are computed when the program runs) and builds a
// control-flow graph of basic blocks, each ending in a conditional jump
// whose true and false edges "and", "or" and "not" rewire. The optimizer
// (optimize.go) then does what libpcap's does: value numbering of loads and
// arithmetic, constant folding, removal of dead and redundant statements,
// threading of jumps whose outcome an earlier test on every path decided,
// pull-ups in "or" and "and" chains, and merging of identical blocks. A
// program it reduces to a rejecting return is refused ("expression rejects
// all packets"), as libpcap refuses it. Programs have about the size of
// libpcap's optimized ones and its verdicts, including on packets shorter
// than a load the optimizer removed (where the unoptimized program rejects).
// The graph is laid out with jumps beyond 255 instructions routed through
// "ja" trampolines. Like libpcap, the optimizer does not run on programs
// with protochain or geneve.
//
// protochain compiles into libpcap's loop, the same instructions as
// libpcap's: a ja back to the test of the next header, which the kernel
// refuses. Options.Unroll gives a program the kernel takes: the walk
// repeated for 12 headers with forward jumps, a longer chain accepting the
// packet, so that the loop can decide in user space.
//
// # Differences from libpcap
//
// "ip broadcast" uses a netmask of 0, as tcpdump does without an interface.
// inbound, outbound and ifindex on link types without a direction field
// load the Linux packet metadata, as libpcap does for a live capture. The
// scratch slots holding the offsets after geneve are set to 0 at the start
// of the program (libpcap reads them unset on the paths where geneve
// failed, which the kernel refuses). Ethernet host names are looked up in
// /etc/ethers. Refused, as libpcap built with IPv6 support refuses them:
// gateway and DECnet host names. Not supported: the 802.11, ATM, SS7 and
// pflog fields.
package filter
