//go:build linux

package pcap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	ibpf "github.com/purecap/pcap/internal/bpf"
	"github.com/purecap/pcap/internal/filter"
	"golang.org/x/net/bpf"
)

// udpFrame builds an Ethernet frame holding an IPv4 UDP datagram from
// 10.0.0.1 to 10.0.0.2 to port dport, whose payload starts with seq.
func udpFrame(dst, src net.HardwareAddr, dport uint16, seq uint32) []byte {
	const ipLen = 20 + 8 + 16
	f := make([]byte, 14+ipLen)
	copy(f[0:6], dst)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], ipLen)
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:16], net.IPv4(10, 0, 0, 1).To4())
	copy(ip[16:20], net.IPv4(10, 0, 0, 2).To4())
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], 8+16)
	binary.BigEndian.PutUint32(udp[8:], seq)
	return f
}

// udpOf returns the destination port and sequence number of an IPv4 UDP
// datagram built by udpFrame.
func udpOf(ip []byte) (port uint16, seq uint32, ok bool) {
	if len(ip) < 32 || ip[0] != 0x45 || ip[9] != 17 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(ip[22:]), binary.BigEndian.Uint32(ip[28:]), true
}

// TestLiveSetFilter checks that a filter expression drops what it rejects,
// whether it runs in the kernel or in user space, and that packets that
// arrived before it was set, even ones it accepts, are not delivered after.
func TestLiveSetFilter(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	const expr = "udp port 53"
	for _, c := range liveFilterRings {
		for _, user := range []bool{false, true} {
			name := c.name + "/kernel"
			if user {
				name = c.name + "/user"
			}
			t.Run(name, func(t *testing.T) {
				cfg := c.cfg
				cfg.Timeout = 50 * time.Millisecond
				h := env.open(env.B, cfg)

				// Early frames the filter accepts, unread.
				const early = 50
				for i := 0; i < early; i++ {
					sendAll(t, s, udpFrame(env.BMAC, env.AMAC, 53, uint32(1000+i)))
				}
				if err := waitReceived(h, early); err != nil {
					t.Fatal(err)
				}
				if user {
					prog, err := CompileFilter(h.LinkType(), h.SnapLen(), expr)
					if err != nil {
						t.Fatal(err)
					}
					if err := h.setUserFilter(prog); err != nil {
						t.Fatal(err)
					}
				} else if err := h.SetFilter(expr); err != nil {
					t.Fatal(err)
				}
				var sent [][]byte
				for i := 0; i < 10; i++ {
					f := udpFrame(env.BMAC, env.AMAC, 53, uint32(i))
					sent = append(sent, f)
					// Rejected by the filter.
					sendAll(t, s, udpFrame(env.BMAC, env.AMAC, 54, uint32(100+i)),
						liveFrame(env.BMAC, env.AMAC, liveType, uint32(200+i), 100), f)
				}
				var bad []livePkt
				got := collect(t, h, len(sent), func(data []byte, ci CaptureInfo) bool {
					if port, seq, ok := udpOf(data[14:]); !ok || port != 53 || seq >= 1000 {
						bad = append(bad, livePkt{bytes.Clone(data), ci})
						return false
					}
					return true
				})
				checkFrames(t, got, sent)
				bad = append(bad, drainExtra(t, h, nil, 200*time.Millisecond)...)
				if len(bad) != 0 {
					t.Errorf("%d frames the filter rejects or that came before it were delivered; first:\n%s", len(bad), hexdump(bad[0].data))
				}
				if st, err := h.Stats(); !user && (err != nil || st.PacketsReceived != early+len(sent) || st.PacketsDropped != 0) {
					t.Errorf("Stats = %+v, %v; want %d received", st, err, early+len(sent))
				}
			})
		}
	}
}

// TestLiveSetFilterVLAN sets a filter on VLAN tags, which the kernel takes
// out of the packet before its filter runs: the filter must see them all
// the same, in the kernel.
func TestLiveSetFilterVLAN(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	for _, v := range []TPacketVersion{TPacketV2, TPacketV3} {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
			if err := h.SetFilter("vlan 100"); err != nil {
				t.Fatal(err)
			}
			checkKernelVLANFilter(t, h, "vlan 100")
			var want [][]byte
			for i := uint32(0); i < 5; i++ {
				in1 := liveVLANFrame(env.BMAC, env.AMAC, 0x8100, 0x2064, liveType, 10*i, 200)
				in2 := liveVLANFrame(env.BMAC, env.AMAC, 0x88a8, 0x0064, liveType, 10*i+1, 200)
				want = append(want, in1, in2)
				sendAll(t, s,
					liveVLANFrame(env.BMAC, env.AMAC, 0x8100, 0x00c8, liveType, 10*i+2, 200), // VLAN 200
					in1,
					liveFrame(env.BMAC, env.AMAC, liveType, 10*i+3, 200), // untagged
					in2)
			}
			got := collect(t, h, len(want), nil)
			checkFrames(t, got, want)
			for i, p := range got {
				if p.ci.VLAN().ID() != 100 || p.ci.Length != 200 {
					t.Errorf("frame %d: VLAN %+v Length %d", i, p.ci.VLAN(), p.ci.Length)
				}
			}
			if extra := drainExtra(t, h, nil, 200*time.Millisecond); len(extra) != 0 {
				t.Errorf("%d frames the filter rejects were delivered; first:\n%s", len(extra), hexdump(extra[0].data))
			}

			// SetBPF replaces the filter, in user space too.
			if err := h.SetBPF(liveFilter(t)); err != nil {
				t.Fatal(err)
			}
			f := liveFrame(env.BMAC, env.AMAC, liveType, 99, 100)
			sendAll(t, s, f)
			checkFrames(t, collect(t, h, 1, nil), [][]byte{f})
		})
	}
}

// TestLiveSetFilterAny sets filters on the "any" device, whose programs
// read the cooked header: the kernel's filter sees the packet without it.
// Frames go both ways between pa and pb; "inbound" keeps only their
// arrivals.
func TestLiveSetFilterAny(t *testing.T) {
	env := newLiveEnv(t)
	sa, sb := env.Sender(env.A), env.Sender(env.B)
	for _, lt := range []LinkType{LinkTypeLinuxSLL, LinkTypeLinuxSLL2} {
		hatype := "link[2:2] = 1"
		if lt == LinkTypeLinuxSLL2 {
			hatype = "link[8:2] = 1"
		}
		for _, v := range liveVersions {
			for _, expr := range []string{
				"inbound and udp port 53",
				// ARPHRD_ETHER: the kernel's filter cannot read it.
				"inbound and udp port 53 and " + hatype,
			} {
				t.Run(fmt.Sprintf("%v/%v/%s", lt, v, expr), func(t *testing.T) {
					// A small snapshot length: V1 and V2 frames hold a whole one on
					// a cooked capture, and in user space every packet reaches the
					// ring.
					h := env.open("any", Config{LinkType: lt, TPacketVersion: v, Timeout: 50 * time.Millisecond, Snaplen: 256})
					prog, err := CompileFilter(lt, h.SnapLen(), expr)
					if err != nil {
						t.Fatal(err)
					}
					_, kernel := kernelProgram(lt, true, prog)
					if kernel != !strings.Contains(expr, "link") {
						t.Fatalf("in the kernel: %v", kernel)
					}
					if err := h.SetFilter(expr); err != nil {
						t.Fatal(err)
					}
					hl := sllHdrLen
					if lt == LinkTypeLinuxSLL2 {
						hl = sll2HdrLen
					}
					// Arrivals on pb (from pa) and on pa (from pb).
					want := map[uint32]int{}
					sent := map[uint32][]byte{}
					for i := uint32(0); i < 5; i++ {
						f := udpFrame(env.BMAC, env.AMAC, 53, i)
						g := udpFrame(env.AMAC, env.BMAC, 53, 100+i)
						want[i], want[100+i] = env.BIdx, env.AIdx
						sent[i], sent[100+i] = f, g
						sendAll(t, sa, f, udpFrame(env.BMAC, env.AMAC, 54, 200+i))
						sendAll(t, sb, g, udpFrame(env.AMAC, env.BMAC, 54, 300+i))
					}
					var bad []livePkt
					keep := func(data []byte, ci CaptureInfo) bool {
						if len(data) < hl {
							bad = append(bad, livePkt{bytes.Clone(data), ci})
							return false
						}
						_, seq, ok := udpOf(data[hl:])
						if !ok || want[seq] != ci.InterfaceIndex || ci.PacketType() != PacketHost || !bytes.Equal(data[hl:], sent[seq][14:]) {
							bad = append(bad, livePkt{bytes.Clone(data), ci})
							return false
						}
						delete(want, seq)
						return true
					}
					collect(t, h, len(want), keep)
					bad = append(bad, drainExtra(t, h, func([]byte, CaptureInfo) bool { return true }, 200*time.Millisecond)...)
					if len(bad) != 0 {
						t.Errorf("%d packets the filter rejects were delivered; first: %v %v\n%s",
							len(bad), bad[0].ci.InterfaceIndex, bad[0].ci.PacketType(), hexdump(bad[0].data))
					}
				})
			}
		}
	}
}

// TestLiveSetFilterInvalid checks that a malformed expression is reported
// with its position and leaves the filter in place.
func TestLiveSetFilterInvalid(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	h := env.open(env.B, Config{Timeout: 50 * time.Millisecond})
	if err := h.SetFilter(fmt.Sprintf("ether proto %#x", liveType)); err != nil {
		t.Fatal(err)
	}
	for _, expr := range []string{"udp port", "host 10.0.0.1 and and tcp", "vlan 5000"} {
		err := h.SetFilter(expr)
		if err == nil {
			t.Fatalf("SetFilter(%q) succeeded", expr)
		}
		if !strings.Contains(err.Error(), "1:") {
			t.Errorf("SetFilter(%q): %v, without a position", expr, err)
		}
	}
	f := liveFrame(env.BMAC, env.AMAC, liveType, 1, 100)
	sendAll(t, s, liveFrame(env.BMAC, env.AMAC, liveOtherType, 2, 100), f)
	checkFrames(t, collect(t, h, 1, nil), [][]byte{f})
	if extra := drainExtra(t, h, nil, 200*time.Millisecond); len(extra) != 0 {
		t.Errorf("%d frames the filter rejects were delivered; first:\n%s", len(extra), hexdump(extra[0].data))
	}
	if !slices.Equal(h.filter, mustCompile(t, h, fmt.Sprintf("ether proto %#x", liveType))) {
		t.Errorf("the socket's program changed")
	}
}

func mustCompile(t *testing.T, h *Handle, expr string) []bpf.RawInstruction {
	t.Helper()
	prog, err := CompileFilter(h.LinkType(), h.SnapLen(), expr)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// checkKernelVLANFilter requires the handle's filter for expr to run in the
// kernel, as compiled for a live socket (its "vlan" reading the kernel's
// ancillary data), with nothing left to do in user space.
func checkKernelVLANFilter(t *testing.T, h *Handle, expr string) {
	t.Helper()
	want, err := filter.CompileWith(uint32(h.LinkType()), h.SnapLen(), expr, filter.Options{LinuxVLAN: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.ring.dec.userFilter != nil {
		t.Errorf("%q runs in user space", expr)
	}
	if !slices.Equal(h.filter, want) || !readsVLANTag(h.filter) {
		t.Errorf("%q: the socket's program is not the live one:\n%s", expr, FormatBPF(h.filter, BPFText))
	}
}

// vlanTagged returns frame f with the tags (TPID, TCI) put after its
// addresses, outermost first.
func vlanTagged(f []byte, tags ...[2]uint16) []byte {
	t := append([]byte(nil), f[:12]...)
	for _, tag := range tags {
		t = binary.BigEndian.AppendUint16(t, tag[0])
		t = binary.BigEndian.AppendUint16(t, tag[1])
	}
	return append(t, f[12:]...)
}

// TestLiveSetFilterVLANKernel sets filters on VLAN tags that run in the
// kernel, single and double tags, and checks that they deliver exactly the
// frames they select, with the tag the kernel took out put back. With the
// kernel's VLAN ancillary data taken away, the same filters run in user
// space with the same result.
func TestLiveSetFilterVLANKernel(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	type frame struct {
		name string
		make func(seq uint32) []byte
	}
	plain := func(seq uint32) []byte { return liveFrame(env.BMAC, env.AMAC, liveType, seq, 100) }
	udp := func(port uint16) func(uint32) []byte {
		return func(seq uint32) []byte { return udpFrame(env.BMAC, env.AMAC, port, seq) }
	}
	tag := func(f func(uint32) []byte, tags ...[2]uint16) func(uint32) []byte {
		return func(seq uint32) []byte { return vlanTagged(f(seq), tags...) }
	}
	frames := []frame{
		{"untagged", plain},
		{"untagged-udp9", udp(9)},
		{"q100", tag(plain, [2]uint16{0x8100, 100})},
		{"q100-prio", tag(plain, [2]uint16{0x8100, 0xa064})},
		{"q200", tag(plain, [2]uint16{0x8100, 200})},
		{"q0", tag(plain, [2]uint16{0x8100, 0})},
		{"ad100", tag(plain, [2]uint16{0x88a8, 100})},
		{"q100-udp9", tag(udp(9), [2]uint16{0x8100, 100})},
		{"q100-udp53", tag(udp(53), [2]uint16{0x8100, 100})},
		{"q200-udp9", tag(udp(9), [2]uint16{0x8100, 200})},
		{"ad100-q200", tag(plain, [2]uint16{0x88a8, 100}, [2]uint16{0x8100, 200})},
		{"q100-q200", tag(plain, [2]uint16{0x8100, 100}, [2]uint16{0x8100, 200})},
		{"q200-q100", tag(plain, [2]uint16{0x8100, 200}, [2]uint16{0x8100, 100})},
		{"q100-q300", tag(plain, [2]uint16{0x8100, 100}, [2]uint16{0x8100, 300})},
		{"ad100-q200-udp9", tag(udp(9), [2]uint16{0x88a8, 100}, [2]uint16{0x8100, 200})},
	}
	cases := []struct {
		expr string
		want []string
	}{
		{"vlan", []string{"q100", "q100-prio", "q200", "q0", "ad100", "q100-udp9", "q100-udp53", "q200-udp9",
			"ad100-q200", "q100-q200", "q200-q100", "q100-q300", "ad100-q200-udp9"}},
		{"vlan 100", []string{"q100", "q100-prio", "ad100", "q100-udp9", "q100-udp53", "ad100-q200", "q100-q200",
			"q100-q300", "ad100-q200-udp9"}},
		{"vlan 0", []string{"q0"}},
		{"vlan 100 and udp port 9", []string{"q100-udp9"}},
		{"not vlan", []string{"untagged", "untagged-udp9"}},
		{"vlan 100 and vlan 200", []string{"ad100-q200", "q100-q200", "ad100-q200-udp9"}},
		{"vlan 100 and vlan 200 and udp port 9", []string{"ad100-q200-udp9"}},
	}
	run := func(t *testing.T, h *Handle, kernel bool, round uint32) {
		for i, c := range cases {
			if err := h.SetFilter(c.expr); err != nil {
				t.Fatalf("%q: %v", c.expr, err)
			}
			if kernel {
				checkKernelVLANFilter(t, h, c.expr)
			} else if h.ring.dec.userFilter == nil {
				t.Errorf("%q runs in the kernel", c.expr)
			}
			selected := map[string]bool{}
			for _, n := range c.want {
				selected[n] = true
			}
			var want [][]byte
			for j, f := range frames {
				data := f.make(round*10000 + uint32(i*100+j))
				sendAll(t, s, data)
				if selected[f.name] {
					want = append(want, data)
				}
			}
			got := collect(t, h, len(want), nil)
			checkFrames(t, got, want)
			for _, p := range got {
				// The kernel took the outer tag out: the kernel's filter
				// read it from its ancillary data.
				tagged := binary.BigEndian.Uint16(p.data[12:]) != liveType && binary.BigEndian.Uint16(p.data[12:]) != 0x0800
				if p.ci.VLAN().Present != tagged || (tagged && p.ci.VLAN().TCI != binary.BigEndian.Uint16(p.data[14:])) {
					t.Errorf("%q: frame %s: VLAN %+v", c.expr, hexdump(p.data), p.ci.VLAN())
				}
			}
			if extra := drainExtra(t, h, nil, 200*time.Millisecond); len(extra) != 0 {
				t.Errorf("%q: %d frames the filter rejects were delivered; first:\n%s", c.expr, len(extra), hexdump(extra[0].data))
			}
		}
	}
	for _, v := range []TPacketVersion{TPacketV2, TPacketV3} {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
			if !h.kernelVLANExtensions() {
				t.Fatal("the kernel's socket filters cannot read the VLAN tag (SO_BPF_EXTENSIONS)")
			}
			run(t, h, true, 1)
		})
	}
	t.Run("no-extensions", func(t *testing.T) {
		saved := vlanExtensions
		vlanExtensions = func(int) bool { return false }
		t.Cleanup(func() { vlanExtensions = saved })
		h := env.open(env.B, Config{TPacketVersion: TPacketV3, Timeout: 50 * time.Millisecond})
		run(t, h, false, 2)
	})
}

// ip6ChainFrame builds an Ethernet frame holding an IPv6 packet whose
// payload is hdrs extension headers (hop-by-hop, destination options,
// routing and fragment in turn, 8 bytes each) and then 8 bytes of protocol
// proto followed by seq.
func ip6ChainFrame(dst, src net.HardwareAddr, hdrs int, proto uint8, seq uint32) []byte {
	ext := []uint8{0, 60, 43, 44}
	f := make([]byte, 14+40+8*hdrs+8+4)
	copy(f[0:6], dst)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:], 0x86dd)
	ip := f[14:]
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(ip)-40))
	ip[7] = 64
	ip[8], ip[23] = 0xfd, 1
	ip[24], ip[39] = 0xfd, 2
	next := &ip[6]
	for i := 0; i < hdrs; i++ {
		*next = ext[i%len(ext)]
		next = &ip[40+8*i]
	}
	*next = proto
	binary.BigEndian.PutUint32(f[len(f)-4:], seq)
	return f
}

// TestLiveSetFilterProtochain sets a protochain filter, which the kernel
// cannot run as libpcap compiles it (a loop): the kernel gets the walk
// unrolled, and a packet with a longer chain of headers than that is
// decided by the loop in user space. Exactly the packets libpcap's program
// selects must come.
func TestLiveSetFilterProtochain(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	const expr = "ip6 protochain 17"
	for _, v := range []TPacketVersion{TPacketV2, TPacketV3} {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
			if err := h.SetFilter(expr); err != nil {
				t.Fatal(err)
			}
			if ibpf.HasBackwardJump(h.filter) || h.ring.dec.userFilter == nil {
				t.Fatalf("the socket's program loops, or nothing confirms it in user space:\n%s", FormatBPF(h.filter, BPFText))
			}
			loop := mustCompile(t, h, expr)
			if !ibpf.HasBackwardJump(loop) {
				t.Fatalf("CompileFilter(%q) does not loop:\n%s", expr, FormatBPF(loop, BPFText))
			}
			var want [][]byte
			seq := uint32(0)
			for _, c := range []struct {
				hdrs  int
				proto uint8
			}{{0, 17}, {0, 6}, {3, 17}, {3, 6}, {20, 17}, {20, 6}, {30, 17}, {11, 58}} {
				f := ip6ChainFrame(env.BMAC, env.AMAC, c.hdrs, c.proto, seq)
				seq++
				// The frame as libpcap's program sees it decides.
				if ibpf.RunPlain(loop, f, len(f)) != 0 {
					want = append(want, f)
				}
				sendAll(t, s, f, udpFrame(env.BMAC, env.AMAC, 53, seq))
			}
			if len(want) != 4 {
				t.Fatalf("libpcap's program selects %d of the frames, want 4", len(want))
			}
			checkFrames(t, collect(t, h, len(want), nil), want)
			if extra := drainExtra(t, h, nil, 200*time.Millisecond); len(extra) != 0 {
				t.Errorf("%d frames the filter rejects were delivered; first:\n%s", len(extra), hexdump(extra[0].data))
			}
			// The kernel let through the frames with long chains only.
			if st, err := h.Stats(); err != nil || st.PacketsReceived != len(want)+1 {
				t.Errorf("Stats = %+v, %v; want %d received by the kernel's filter", st, err, len(want)+1)
			}

			// SetBPF refuses the loop, with a message that says why.
			if err := h.SetBPF(loop); err == nil || !strings.Contains(err.Error(), "backwards") {
				t.Errorf("SetBPF(loop) = %v, want a refusal of the backward jump", err)
			}
		})
	}
}
