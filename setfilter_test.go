//go:build linux

package pcap

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	ibpf "github.com/purecap/pcap/internal/bpf"
	"github.com/purecap/pcap/internal/filter"
	"golang.org/x/net/bpf"
)

func assemble(t *testing.T, insns ...bpf.Instruction) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble(insns)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// TestRewriteCooked checks the rewrite of cooked programs for the kernel:
// each program either becomes the given one or must run in user space.
func TestRewriteCooked(t *testing.T) {
	ret := []bpf.Instruction{bpf.RetConstant{Val: 0x40000}, bpf.RetConstant{Val: 0}}
	prog := func(insns ...bpf.Instruction) []bpf.Instruction { return append(insns, ret...) }
	anc := func(ad uint32, size int) bpf.Instruction {
		return bpf.LoadAbsolute{Off: ibpf.AncillaryOffset + ad, Size: size}
	}
	ld := func(off uint32, size int) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: size} }
	ldi := func(off uint32, size int) bpf.Instruction { return bpf.LoadIndirect{Off: off, Size: size} }
	msh := func(off uint32) bpf.Instruction { return bpf.LoadMemShift{Off: off} }
	jeq := func(v uint32) bpf.Instruction { return bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipFalse: 1} }
	for _, c := range []struct {
		name string
		lt   LinkType
		in   []bpf.Instruction
		out  []bpf.Instruction // nil: user space
	}{
		{"sll/payload", LinkTypeLinuxSLL, prog(ld(25, 1), jeq(17)), prog(ld(9, 1), jeq(17))},
		{"sll/header-end", LinkTypeLinuxSLL, prog(ld(16, 4), jeq(1)), prog(ld(0, 4), jeq(1))},
		{"sll/pkttype", LinkTypeLinuxSLL, prog(ld(0, 2), jeq(4)), prog(anc(ibpf.AdPktType, 2), jeq(4))},
		{"sll/protocol", LinkTypeLinuxSLL, prog(ld(14, 2), jeq(0x800)), prog(anc(ibpf.AdProtocol, 2), jeq(0x800))},
		{"sll/indexed", LinkTypeLinuxSLL, prog(msh(16), ldi(18, 2), jeq(53)), prog(msh(0), ldi(2, 2), jeq(53))},
		{"sll/ancillary", LinkTypeLinuxSLL, prog(anc(ibpf.AdIfIndex, 4), jeq(3)), prog(anc(ibpf.AdIfIndex, 4), jeq(3))},
		{"sll/hatype", LinkTypeLinuxSLL, prog(ld(2, 2), jeq(1)), nil},
		{"sll/address", LinkTypeLinuxSLL, prog(ld(6, 4), jeq(1)), nil},
		{"sll/pkttype-byte", LinkTypeLinuxSLL, prog(ld(1, 1), jeq(4)), nil},
		{"sll/protocol-word", LinkTypeLinuxSLL, prog(ld(14, 4), jeq(4)), nil},
		{"sll/straddle", LinkTypeLinuxSLL, prog(ld(15, 2), jeq(4)), nil},
		{"sll/indexed-header", LinkTypeLinuxSLL, prog(ldi(14, 2), jeq(4)), nil},
		{"sll/msh-header", LinkTypeLinuxSLL, prog(msh(15), ldi(16, 2), jeq(4)), nil},
		{"sll/len", LinkTypeLinuxSLL, prog(bpf.LoadExtension{Num: bpf.ExtLen}, jeq(100)), nil},
		{"sll2/payload", LinkTypeLinuxSLL2, prog(ld(29, 1), jeq(17)), prog(ld(9, 1), jeq(17))},
		{"sll2/protocol", LinkTypeLinuxSLL2, prog(ld(0, 2), jeq(0x86dd)), prog(anc(ibpf.AdProtocol, 2), jeq(0x86dd))},
		{"sll2/ifindex", LinkTypeLinuxSLL2, prog(ld(4, 4), jeq(3)), prog(anc(ibpf.AdIfIndex, 4), jeq(3))},
		{"sll2/pkttype", LinkTypeLinuxSLL2, prog(ld(10, 1), jeq(4)), prog(anc(ibpf.AdPktType, 1), jeq(4))},
		{"sll2/indexed", LinkTypeLinuxSLL2, prog(msh(20), ldi(22, 2), jeq(53)), prog(msh(0), ldi(2, 2), jeq(53))},
		{"sll2/hatype", LinkTypeLinuxSLL2, prog(ld(8, 2), jeq(1)), nil},
		{"sll2/reserved", LinkTypeLinuxSLL2, prog(ld(2, 2), jeq(0)), nil},
		{"sll2/halen", LinkTypeLinuxSLL2, prog(ld(11, 1), jeq(6)), nil},
		{"sll2/ifindex-half", LinkTypeLinuxSLL2, prog(ld(4, 2), jeq(0)), nil},
		{"sll2/sll-pkttype", LinkTypeLinuxSLL2, prog(ld(14, 2), jeq(0x800)), nil},
		{"sll2/indexed-header", LinkTypeLinuxSLL2, prog(ldi(19, 1), jeq(4)), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := assemble(t, c.in...)
			orig := slices.Clone(in)
			got, ok := kernelProgram(c.lt, true, in)
			if !slices.Equal(in, orig) {
				t.Errorf("the program was changed in place")
			}
			if c.out == nil {
				if ok {
					t.Errorf("rewritten to\n%s\nwant user space", FormatBPF(got, BPFText))
				}
				return
			}
			want := assemble(t, c.out...)
			if !ok {
				t.Fatalf("user space, want\n%s", FormatBPF(want, BPFText))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", FormatBPF(got, BPFText), FormatBPF(want, BPFText))
			}
		})
	}
}

// TestKernelProgram checks where compiled expressions run.
func TestKernelProgram(t *testing.T) {
	for _, c := range []struct {
		lt     LinkType
		cooked bool
		expr   string
		kernel bool
	}{
		{LinkTypeEthernet, false, "udp port 53", true},
		{LinkTypeEthernet, false, "ether proto 0x88b5", true},
		{LinkTypeEthernet, false, "vlan", false},
		{LinkTypeEthernet, false, "vlan 100", false},
		{LinkTypeEthernet, false, "tcp or vlan", false},
		{LinkTypeEthernet, false, "ether proto 0x8100", false},
		{LinkTypeEthernet, false, "ether[12:2] = 0x88a8", false},
		{LinkTypeRaw, false, "udp port 53", true},
		{LinkTypeLinuxSLL, true, "inbound and udp port 53", true},
		{LinkTypeLinuxSLL, true, "tcp[13] & 2 != 0", true},
		{LinkTypeLinuxSLL, true, "len > 100", false},
		{LinkTypeLinuxSLL, true, "link[2:2] = 1", false},
		{LinkTypeLinuxSLL2, true, "outbound and ip6", true},
		{LinkTypeLinuxSLL2, true, "ifindex 3", true},
		{LinkTypeLinuxSLL2, true, "link[8:2] = 1", false},
		{LinkTypeLinuxSLL2, true, "greater 100", false},
	} {
		prog, err := CompileFilter(c.lt, 0, c.expr)
		if err != nil {
			t.Errorf("%v %q: %v", c.lt, c.expr, err)
			continue
		}
		kprog, ok := kernelProgram(c.lt, c.cooked, prog)
		if ok != c.kernel {
			t.Errorf("%v %q: in the kernel %v, want %v", c.lt, c.expr, ok, c.kernel)
		}
		if ok && !c.cooked && !slices.Equal(kprog, prog) {
			t.Errorf("%v %q: program changed", c.lt, c.expr)
		}
	}
}

// TestRingUserFilter checks that the ring delivers only the packets a
// user-space filter accepts, judged on the data as delivered: on every
// version, through the walkers' fast paths too.
func TestRingUserFilter(t *testing.T) {
	// Packets of 200 bytes or more on the wire, as delivered (with the
	// cooked header and a re-inserted tag).
	long, err := NewBPFFromInstructions(assemble(t,
		bpf.LoadExtension{Num: bpf.ExtLen},
		bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: 200, SkipFalse: 1},
		bpf.RetConstant{Val: DefaultSnaplen},
		bpf.RetConstant{Val: 0},
	))
	if err != nil {
		t.Fatal(err)
	}
	forEachRing(t, allVersions, allLinks, func(t *testing.T, v TPacketVersion, link linkKind) {
		k, r := newTestRing(t, testInfo(v), link, DefaultSnaplen, DirectionInOut)
		r.dec.userFilter = long
		ps := makePkts(link, ringCapacity(testInfo(v)))
		for i := range ps {
			ps[i].vlan, ps[i].tci, ps[i].tpid = i%3 == 0, 5, 0x8100
		}
		k.rcvAll(t, ps)
		k.retire()
		var want []gotPkt
		for _, w := range k.wantAll(ps, DefaultSnaplen) {
			if w.ci.Length >= 200 {
				want = append(want, w)
			}
		}
		checkPkts(t, readAll(t, r), want)
		checkOwned(t, k)
	})

	// The filter sees the tag the kernel took out of the data.
	prog, err := CompileFilter(LinkTypeEthernet, DefaultSnaplen, "vlan 5")
	if err != nil {
		t.Fatal(err)
	}
	vlan5, err := NewBPFFromInstructions(prog)
	if err != nil {
		t.Fatal(err)
	}
	forEachRing(t, []TPacketVersion{TPacketV2, TPacketV3}, []linkKind{linkEthernet}, func(t *testing.T, v TPacketVersion, link linkKind) {
		k, r := newTestRing(t, testInfo(v), link, DefaultSnaplen, DirectionInOut)
		r.dec.userFilter = vlan5
		ps := sizedPkts(link, 0, ringCapacity(testInfo(v)), 100)
		for i := range ps {
			ps[i].vlan, ps[i].tci, ps[i].tpid = i%3 != 2, uint16(5+i%3), 0x8100
		}
		k.rcvAll(t, ps)
		k.retire()
		var want []gotPkt
		for i, w := range k.wantAll(ps, DefaultSnaplen) {
			if i%3 == 0 {
				want = append(want, w)
			}
		}
		checkPkts(t, readAll(t, r), want)
		checkOwned(t, k)
	})
}

// TestFilterPrograms checks which programs SetFilter attaches: on an
// Ethernet handle, "vlan" runs in the kernel through its ancillary data
// when the kernel has it, and in user space, on the data with the tag put
// back, when it does not.
func TestFilterPrograms(t *testing.T) {
	for _, c := range []struct {
		lt      LinkType
		cooked  bool
		expr    string
		ext     bool
		kernel  string // "offline", "live", "unrolled" or "" (user space only)
		noUser  bool   // only the kernel's program compiles
		invalid bool
	}{
		{LinkTypeEthernet, false, "udp port 53", true, "offline", false, false},
		{LinkTypeEthernet, false, "udp port 53", false, "offline", false, false},
		{LinkTypeEthernet, false, "vlan", true, "live", false, false},
		{LinkTypeEthernet, false, "vlan 100", true, "live", false, false},
		{LinkTypeEthernet, false, "vlan 100", false, "", false, false},
		{LinkTypeEthernet, false, "vlan 100 and udp port 9", true, "live", false, false},
		{LinkTypeEthernet, false, "not vlan", true, "live", false, false},
		{LinkTypeEthernet, false, "vlan 100 and vlan 200", true, "live", false, false},
		{LinkTypeEthernet, false, "tcp or vlan", true, "live", false, false},
		{LinkTypeEthernet, false, "ip and vlan", true, "live", true, false},
		{LinkTypeEthernet, false, "ip and vlan", false, "", false, true},
		{LinkTypeEthernet, false, "ether proto 0x8100", true, "", false, false},
		{LinkTypeEthernet, false, "vlan and protochain 6", true, "", false, false},
		{LinkTypeEthernet, false, "vlan 5000", true, "", false, true},
		{LinkTypeLinuxSLL, true, "vlan", true, "", false, true},
		{LinkTypeLinuxSLL, true, "udp port 53", true, "offline", false, false},
		{LinkTypeLinuxSLL2, true, "vlan 100", true, "", false, true},
		{LinkTypeEthernet, false, "ip6 protochain 6", true, "unrolled", false, false},
		{LinkTypeEthernet, false, "not protochain 17 and udp", false, "unrolled", false, false},
		{LinkTypeEthernet, false, "protochain 6 or vlan 100", true, "live", false, false},
		{LinkTypeLinuxSLL, true, "ip6 protochain 58", true, "unrolled", false, false},
		{LinkTypeLinuxSLL2, true, "protochain 6", true, "unrolled", false, false},
		{LinkTypeRaw, false, "ip protochain 51", true, "unrolled", false, false},
	} {
		name := fmt.Sprintf("%v/%s/ext=%v", c.lt, c.expr, c.ext)
		called := false
		fs, err := filterPrograms(c.lt, c.cooked, 0, c.expr, func() bool { called = true; return c.ext })
		user, kernel := fs.user, fs.kernel
		if c.invalid {
			if err == nil {
				t.Errorf("%s: no error", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		offline, oerr := CompileFilter(c.lt, 0, c.expr)
		if c.noUser {
			if user != nil || oerr == nil {
				t.Errorf("%s: a user-space program", name)
			}
		} else if oerr != nil || !slices.Equal(user, offline) {
			t.Errorf("%s: the user-space program is not CompileFilter's", name)
		}
		switch c.kernel {
		case "":
			if kernel != nil {
				t.Errorf("%s: in the kernel:\n%s", name, FormatBPF(kernel, BPFText))
			}
		case "offline":
			if want, _ := kernelProgram(c.lt, c.cooked, offline); !slices.Equal(kernel, want) {
				t.Errorf("%s: kernel program\n%s", name, FormatBPF(kernel, BPFText))
			}
			if called {
				t.Errorf("%s: asked for the VLAN extensions", name)
			}
		case "live":
			live, err := filter.CompileWith(uint32(c.lt), 0, c.expr, filter.Options{LinuxVLAN: true, Unroll: true})
			if err != nil || !slices.Equal(kernel, live) {
				t.Errorf("%s: kernel program\n%s", name, FormatBPF(kernel, BPFText))
			}
		case "unrolled":
			unrolled, err := filter.CompileWith(uint32(c.lt), 0, c.expr, filter.Options{Unroll: true})
			want, _ := kernelProgram(c.lt, c.cooked, unrolled)
			if err != nil || want == nil || !slices.Equal(kernel, want) {
				t.Errorf("%s: kernel program\n%s", name, FormatBPF(kernel, BPFText))
			}
		}
		// The kernel's program must be confirmed in user space exactly
		// when CompileFilter's loops.
		if loops := ibpf.HasBackwardJump(user); fs.confirm != (loops && kernel != nil) {
			t.Errorf("%s: confirm = %v, CompileFilter's program loops: %v", name, fs.confirm, loops)
		}
		if kernel != nil {
			if err := ibpf.ValidateKernel(kernel); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// TestFilterProgramsVerdicts checks that the kernel's program for "vlan"
// on the data the kernel's filter sees (the outer tag taken out) selects
// the packets that the user-space program selects on the data as
// delivered (the tag put back).
func TestFilterProgramsVerdicts(t *testing.T) {
	type tag struct{ tpid, tci uint16 }
	frame := func(tags []tag, etype uint16, dport uint16) []byte {
		b := make([]byte, 12)
		b[0] = 2
		for _, tg := range tags {
			b = binary.BigEndian.AppendUint16(b, tg.tpid)
			b = binary.BigEndian.AppendUint16(b, tg.tci)
		}
		b = binary.BigEndian.AppendUint16(b, etype)
		ip := make([]byte, 28)
		ip[0], ip[9] = 0x45, 17
		binary.BigEndian.PutUint16(ip[22:], dport)
		return append(b, ip...)
	}
	var stacks [][]tag
	for _, tpid := range []uint16{0x8100, 0x88a8} {
		for _, tci := range []uint16{0, 100, 200, 0x2064, 0xf0c8} {
			stacks = append(stacks, []tag{{tpid, tci}})
			for _, inner := range []uint16{100, 200, 300} {
				stacks = append(stacks, []tag{{tpid, tci}, {0x8100, inner}})
			}
		}
	}
	for _, expr := range []string{"vlan", "vlan 100", "vlan 0", "not vlan", "vlan 100 and udp port 9", "vlan and ip",
		"vlan 100 and vlan 200", "vlan and vlan 300 and udp", "vlan or arp", "not vlan 200 and ip"} {
		fs, err := filterPrograms(LinkTypeEthernet, false, 0, expr, func() bool { return true })
		user, kernel := fs.user, fs.kernel
		if err != nil || kernel == nil {
			t.Fatalf("%q: %v, kernel program %v", expr, err, kernel != nil)
		}
		accepted := 0
		for _, etype := range []uint16{0x0800, 0x0806} {
			for _, dport := range []uint16{9, 53} {
				untagged := frame(nil, etype, dport)
				u, k := ibpf.RunPlain(user, untagged, len(untagged)), ibpf.Run(kernel, untagged, len(untagged), ibpf.Ancillary{})
				if (u != 0) != (k != 0) {
					t.Errorf("%q, untagged % x: user space %d, kernel %d", expr, untagged, u, k)
				}
				if u != 0 {
					accepted++
				}
				for _, st := range stacks {
					delivered := frame(st, etype, dport)
					seen := frame(st[1:], etype, dport)
					anc := ibpf.Ancillary{VLANPresent: true, VLANTCI: st[0].tci, VLANTPID: st[0].tpid}
					u := ibpf.RunPlain(user, delivered, len(delivered))
					k := ibpf.Run(kernel, seen, len(seen), anc)
					if (u != 0) != (k != 0) {
						t.Errorf("%q, tags %v, % x: user space %d, kernel %d", expr, st, delivered, u, k)
					}
					if u != 0 {
						accepted++
					}
				}
			}
		}
		if accepted == 0 {
			t.Errorf("%q: no packet accepted", expr)
		}
	}
}
