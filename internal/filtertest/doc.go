// Package filtertest holds what the filter conformance tests share: the
// expression corpus, libpcap's programs for it (golden files made with
// tcpdump) and packet corpora per link type. The programs run on the
// interpreter of internal/bpf; RunPacket runs one over a Packet.
//
// # Expressions
//
// The corpus of filter expressions has three parts: the cases in
// ../shared/filter/expressions.tsv (beside the checkout), the project's own
// list in testdata/filter/expressions.tsv, and expressions made by a seeded
// generator (RandomExpressions). Each line of a list is a link type name as
// tcpdump's -y takes it, a tab, and an expression.
//
// # Goldens
//
// testdata/filter/golden/LINKTYPE.tsv records, for every expression of the
// corpus, the program libpcap compiles for it (tcpdump -y LINKTYPE -ddd EXPR)
// or the error with which libpcap refuses it. Regenerate them after changing
// the corpus, the generator, or the libpcap version:
//
//	go test ./internal/filtertest -run TestGenerateGoldens -update
//
// TestGoldensCurrent re-runs tcpdump wherever it is installed and fails when a
// golden file no longer matches what libpcap produces.
//
// # Packets
//
// Packets returns the packets a filter is judged on for a link type: the
// shared corpus (../shared/filter/corpus/*.pcap, made by gencorpus.py) and
// the edge cases of EdgePackets, which are built in Go: truncated frames,
// IPv4 options and fragments, IPv6 extension headers, VLAN, MPLS and PPPoE
// encapsulations, LLC frames, and cooked headers of every packet type.
//
// # Running programs
//
// RunPacket runs a program over a Packet with internal/bpf's interpreter,
// which has libpcap's bpf_filter semantics. A Packet's Aux holds the
// metadata the Linux kernel answers ancillary loads with (packet type,
// interface index, …); without it those loads reject the packet, as they
// do when libpcap filters a savefile.
package filtertest
