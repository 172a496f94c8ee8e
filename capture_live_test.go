//go:build linux

package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/bpf"
)

var liveVersions = []TPacketVersion{TPacketV1, TPacketV2, TPacketV3}

// liveReadEach reads len(want) packets with read, one a call, passing each
// to keep (with its index) for the data to record.
func liveReadEach(t *testing.T, want [][]byte, read func() ([]byte, CaptureInfo, error), keep func(int, []byte) []byte) []livePkt {
	t.Helper()
	var got []livePkt
	deadline := time.Now().Add(liveWait)
	for len(got) < len(want) {
		data, ci, err := read()
		if errors.Is(err, ErrTimeout) {
			if time.Now().After(deadline) {
				t.Fatalf("got %d of %d frames", len(got), len(want))
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, livePkt{keep(len(got), data), ci})
	}
	return got
}

// TestLiveDelivery sends frames from pa and checks that a handle on pb
// returns each of them intact, once and in order, through every ring version
// and every way of reading. The ring is small, so that it wraps several
// times: data returned by ReadPacketData must survive the reuse of its frame.
func TestLiveDelivery(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	const batches, perBatch = 10, 10

	// dispatchEach alternates a count limit with "all available".
	dispatchEach := func(name string, dispatch func(h *Handle, cnt int, fn func([]byte, CaptureInfo)) (int, error)) func(t *testing.T, h *Handle, want [][]byte) []livePkt {
		return func(t *testing.T, h *Handle, want [][]byte) []livePkt {
			var got []livePkt
			deadline := time.Now().Add(liveWait)
			for iter := 0; len(got) < len(want); iter++ {
				if time.Now().After(deadline) {
					t.Fatalf("got %d of %d frames", len(got), len(want))
				}
				cnt := -1
				if iter%2 == 0 {
					cnt = 3
				}
				calls := 0
				n, err := dispatch(h, cnt, func(data []byte, ci CaptureInfo) {
					calls++
					got = append(got, livePkt{bytes.Clone(data), ci})
				})
				if err != nil {
					t.Fatal(err)
				}
				if n != calls || (cnt > 0 && n > cnt) {
					t.Fatalf("%s(%d) = %d after %d callbacks", name, cnt, n, calls)
				}
			}
			return got
		}
	}
	readers := map[string]func(t *testing.T, h *Handle, want [][]byte) []livePkt{
		"Dispatch": dispatchEach("Dispatch", func(h *Handle, cnt int, fn func([]byte, CaptureInfo)) (int, error) {
			return h.Dispatch(cnt, fn)
		}),
		"Loop": func(t *testing.T, h *Handle, want [][]byte) []livePkt {
			// Two Loops share the batch: the first must leave the rest.
			var got []livePkt
			stop := watchdog(liveWait, h.BreakLoop)
			defer stop()
			for _, cnt := range []int{4, len(want) - 4} {
				calls := 0
				n, err := h.Loop(cnt, func(data []byte, ci CaptureInfo) {
					calls++
					got = append(got, livePkt{bytes.Clone(data), ci})
				})
				if err != nil || n != cnt || calls != cnt {
					t.Fatalf("Loop(%d) = %d, %v after %d callbacks (%d frames so far)", cnt, n, err, calls, len(got))
				}
			}
			return got
		},
		"ReadPacketData": func(t *testing.T, h *Handle, want [][]byte) []livePkt {
			// Not cloned: the copy is ours and must stay intact.
			return liveReadEach(t, want, h.ReadPacketData, func(_ int, data []byte) []byte { return data })
		},
		"ZeroCopyReadPacketData": func(t *testing.T, h *Handle, want [][]byte) []livePkt {
			return liveReadEach(t, want, h.ZeroCopyReadPacketData, func(i int, data []byte) []byte {
				// Valid until the next read: check it now.
				if !bytes.Equal(data, want[i]) {
					t.Fatalf("frame %d: got\n%s\nwant\n%s", i, hexdump(data), hexdump(want[i]))
				}
				return bytes.Clone(data)
			})
		},
	}

	for _, v := range liveVersions {
		for _, name := range []string{"Dispatch", "Loop", "ReadPacketData", "ZeroCopyReadPacketData"} {
			read := readers[name]
			t.Run(v.String()+"/"+name, func(t *testing.T) {
				h := env.open(env.B, Config{
					TPacketVersion: v,
					Timeout:        50 * time.Millisecond,
					Snaplen:        2048,
					BufferSize:     64 << 10,
					BlockSize:      16 << 10,
				})
				if ri := h.Ring(); ri.Version != v {
					t.Fatalf("Ring().Version = %v, want %v", ri.Version, v)
				}
				if h.LinkType() != LinkTypeEthernet || h.SnapLen() != 2048 {
					t.Fatalf("LinkType %v SnapLen %d, want EN10MB 2048", h.LinkType(), h.SnapLen())
				}
				var all []livePkt
				var sent [][]byte
				start := time.Now()
				for b := 0; b < batches; b++ {
					var batch [][]byte
					for i := 0; i < perBatch; i++ {
						seq := uint32(b*perBatch + i)
						batch = append(batch, liveFrame(env.BMAC, env.AMAC, liveType, seq, 60+int(seq*37)%1440))
					}
					sendAll(t, s, batch...)
					got := read(t, h, batch)
					checkFrames(t, got, batch)
					all = append(all, got...)
					sent = append(sent, batch...)
				}
				// Earlier packets are unchanged now that the ring has wrapped.
				checkFrames(t, all, sent)
				for i, p := range all {
					ci := p.ci
					if ci.CaptureLength != len(p.data) || ci.Length != len(p.data) {
						t.Errorf("frame %d: CaptureLength %d Length %d, data %d bytes", i, ci.CaptureLength, ci.Length, len(p.data))
					}
					if ci.InterfaceIndex != env.BIdx || ci.PacketType() != PacketHost || ci.VLAN().Present {
						t.Errorf("frame %d: ifindex %d type %v vlan %+v, want %d host no vlan", i, ci.InterfaceIndex, ci.PacketType(), ci.VLAN(), env.BIdx)
					}
					if ci.Time().Before(start.Add(-time.Second)) || ci.Time().After(time.Now().Add(time.Second)) {
						t.Errorf("frame %d: timestamp %v outside the test's run (%v to now)", i, ci.Timestamp, start)
					}
					if i > 0 && ci.Timestamp < all[i-1].ci.Timestamp {
						t.Errorf("frame %d: timestamp %v before the previous frame's %v", i, ci.Timestamp, all[i-1].ci.Timestamp)
					}
				}
				st, err := h.Stats()
				if err != nil || st.PacketsReceived != len(sent) || st.PacketsDropped != 0 {
					t.Errorf("Stats = %+v, %v; want %d received, 0 dropped", st, err, len(sent))
				}
			})
		}
	}
}

// TestLiveAutoVersion checks the version TPacketAuto picks.
func TestLiveAutoVersion(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	for _, c := range []struct {
		immediate bool
		want      TPacketVersion
	}{{false, TPacketV3}, {true, TPacketV2}} {
		h := env.open(env.B, Config{Immediate: c.immediate, Timeout: 50 * time.Millisecond})
		if got := h.Ring().Version; got != c.want {
			t.Errorf("Immediate %v: ring version %v, want %v", c.immediate, got, c.want)
		}
		f := liveFrame(env.BMAC, env.AMAC, liveType, 1, 100)
		sendAll(t, s, f)
		checkFrames(t, collect(t, h, 1, isLive), [][]byte{f})
		h.Close()
	}
}

// TestLiveSnaplen checks truncation: CaptureLength is the snapshot length,
// Length the frame's full length, and the data its beginning.
func TestLiveSnaplen(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	const snap = 100
	sizes := []int{60, 99, 100, 101, 1000, 1514}
	for _, v := range liveVersions {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Snaplen: snap, Timeout: 50 * time.Millisecond})
			if h.SnapLen() != snap {
				t.Fatalf("SnapLen() = %d, want %d", h.SnapLen(), snap)
			}
			var sent [][]byte
			for i, n := range sizes {
				sent = append(sent, liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), n))
			}
			sendAll(t, s, sent...)
			got := collect(t, h, len(sent), isLive)
			for i, p := range got {
				f := sent[i]
				want := f[:min(len(f), snap)]
				if !bytes.Equal(p.data, want) {
					t.Errorf("frame %d (%d bytes): got\n%s\nwant\n%s", i, len(f), hexdump(p.data), hexdump(want))
				}
				if p.ci.CaptureLength != len(want) || p.ci.Length != len(f) {
					t.Errorf("frame %d: CaptureLength %d Length %d, want %d %d", i, p.ci.CaptureLength, p.ci.Length, len(want), len(f))
				}
			}
		})
	}
}

type vlanCase struct {
	name      string
	tpid, tci uint16
	inner     []uint16 // further tags, kept in the data: tpid, tci pairs
}

var vlanCases = []vlanCase{
	{name: "802.1Q", tpid: 0x8100, tci: 0x2064},                                // priority 1, VLAN 100
	{name: "802.1ad", tpid: 0x88a8, tci: 0x0123},                               // S-tag, VLAN 291
	{name: "VLAN0", tpid: 0x8100, tci: 0x0000},                                 // priority tag, all zero
	{name: "prio5-VLAN0", tpid: 0x8100, tci: 0xa000},                           // priority 5, VLAN 0
	{name: "DEI", tpid: 0x8100, tci: 0x1fff},                                   // DEI set, VLAN 4095
	{name: "QinQ", tpid: 0x88a8, tci: 0x0123, inner: []uint16{0x8100, 0x0064}}, // inner tag stays in place
}

// frame builds the tagged test frame of the case.
func (c vlanCase) frame(dst, src net.HardwareAddr, seq uint32, size int) []byte {
	f := liveFrame(dst, src, liveType, seq, size)
	tags := []byte{}
	tags = binary.BigEndian.AppendUint16(tags, c.tpid)
	tags = binary.BigEndian.AppendUint16(tags, c.tci)
	for _, x := range c.inner {
		tags = binary.BigEndian.AppendUint16(tags, x)
	}
	return slices.Concat(f[:12], tags, f[12:])
}

// TestLiveVLAN sends tagged frames. The kernel takes the outer tag out of a
// received frame and reports it beside the packet; the handle puts it back,
// so the data is the frame as sent, and reports it in CaptureInfo.VLAN.
func TestLiveVLAN(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	for _, v := range []TPacketVersion{TPacketV2, TPacketV3} {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
			short := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond, Snaplen: 64})
			var sent [][]byte
			for i, c := range vlanCases {
				sent = append(sent, c.frame(env.BMAC, env.AMAC, uint32(i), 300))
			}
			plain := liveFrame(env.BMAC, env.AMAC, liveType, 99, 300)
			sent = append(sent, plain)
			sendAll(t, s, sent...)

			isTest := func(data []byte, _ CaptureInfo) bool {
				return len(data) >= 12 && bytes.Equal(data[:6], env.BMAC) && bytes.Equal(data[6:12], env.AMAC)
			}
			got := collect(t, h, len(sent), isTest)
			checkFrames(t, got, sent)
			for i, c := range vlanCases {
				want := VLANTag{Present: true, TCI: c.tci, TPID: c.tpid}
				if ci := got[i].ci; ci.VLAN() != want || ci.Length != len(sent[i]) || ci.CaptureLength != len(sent[i]) {
					t.Errorf("%s: VLAN %+v Length %d CaptureLength %d, want %+v %d %d", c.name, ci.VLAN(), ci.Length, ci.CaptureLength, want, len(sent[i]), len(sent[i]))
				}
				if got[i].ci.VLAN().ID() != c.tci&0xfff {
					t.Errorf("%s: VLAN ID %d, want %d", c.name, got[i].ci.VLAN().ID(), c.tci&0xfff)
				}
			}
			if ci := got[len(got)-1].ci; ci.VLAN().Present {
				t.Errorf("untagged frame: VLAN %+v", ci.VLAN())
			}

			// Truncated: the tag counts in the snapshot length.
			got = collect(t, short, len(sent), isTest)
			for i, p := range got {
				if !bytes.Equal(p.data, sent[i][:64]) || p.ci.CaptureLength != 64 || p.ci.Length != len(sent[i]) {
					t.Errorf("snaplen 64, frame %d: CaptureLength %d Length %d data\n%s\nwant %d bytes of\n%s",
						i, p.ci.CaptureLength, p.ci.Length, hexdump(p.data), len(sent[i]), hexdump(sent[i]))
				}
			}
		})
	}
}

// sllHeader builds the LINUX_SLL header expected in front of a packet.
func sllHeader(pkttype PacketType, src net.HardwareAddr, proto uint16) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[0:], uint16(pkttype))
	binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(b[4:], 6)
	copy(b[6:14], src)
	binary.BigEndian.PutUint16(b[14:], proto)
	return b
}

// sll2Header builds the LINUX_SLL2 header expected in front of a packet.
func sll2Header(pkttype PacketType, ifindex int, src net.HardwareAddr, proto uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], proto)
	binary.BigEndian.PutUint32(b[4:], uint32(ifindex))
	binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[10] = byte(pkttype)
	b[11] = 6
	copy(b[12:20], src)
	return b
}

// TestLiveAnyCooked captures on the "any" device, which gives a cooked
// header (SLL or SLL2) built from the kernel's sockaddr_ll in front of the
// network-layer packet. Each frame from pa to pb is seen twice: leaving pa
// and arriving on pb.
func TestLiveAnyCooked(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	for _, lt := range []LinkType{LinkTypeLinuxSLL, LinkTypeLinuxSLL2} {
		for _, v := range liveVersions {
			t.Run(lt.String()+"/"+v.String(), func(t *testing.T) {
				// A small ring, which the frames go round several times:
				// headers built in frames the kernel reuses must not show
				// stale bytes. (V1 and V2 frames hold a whole snapshot
				// length on a cooked capture.)
				h := env.open("any", Config{LinkType: lt, TPacketVersion: v, Timeout: 50 * time.Millisecond,
					Snaplen: 4096, BufferSize: 64 << 10, BlockSize: 16 << 10})
				if h.LinkType() != lt {
					t.Fatalf("LinkType() = %v, want %v", h.LinkType(), lt)
				}
				hdr := func(pkttype PacketType, ifindex int, proto uint16) []byte {
					if lt == LinkTypeLinuxSLL {
						return sllHeader(pkttype, env.AMAC, proto)
					}
					return sll2Header(pkttype, ifindex, env.AMAC, proto)
				}
				const n = 20
				var sent [][]byte
				for i := 0; i < n; i++ {
					sent = append(sent, liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), 60+i*50))
				}
				// Tagged frames last, on the versions that report tags.
				// Not QinQ: on a datagram socket the kernel reports the
				// innermost protocol (vlan_get_protocol_dgram, Linux 6.12)
				// with the data starting at the inner tag's TCI, so the
				// inner TPID is lost. libpcap shows the same.
				var tagged []vlanCase
				if v != TPacketV1 {
					for _, c := range vlanCases {
						if c.inner == nil {
							tagged = append(tagged, c)
						}
					}
				}
				for i, c := range tagged {
					sent = append(sent, c.frame(env.BMAC, env.AMAC, uint32(n+i), 200))
				}
				var in, out []livePkt
				const rounds, chunk = 4, 5
				for r := 0; r < rounds; r++ {
					for c := 0; c < len(sent); c += chunk {
						part := sent[c:min(c+chunk, len(sent))]
						sendAll(t, s, part...)
						collect(t, h, 2*len(part), func(data []byte, ci CaptureInfo) bool {
							p := livePkt{bytes.Clone(data), ci}
							switch {
							case ci.InterfaceIndex == env.BIdx && ci.PacketType() == PacketHost:
								in = append(in, p)
							case ci.InterfaceIndex == env.AIdx && ci.PacketType() == PacketOutgoing:
								out = append(out, p)
							default:
								t.Errorf("unexpected packet on ifindex %d type %v: %s", ci.InterfaceIndex, ci.PacketType(), hexdump(data))
								return false
							}
							return true
						})
					}
				}
				if len(in) != rounds*len(sent) || len(out) != rounds*len(sent) {
					t.Fatalf("got %d packets in on pb and %d out of pa, want %d each", len(in), len(out), rounds*len(sent))
				}
				hl := len(hdr(0, 0, 0))
				for j := range in {
					i, f := j%len(sent), sent[j%len(sent)]
					// Leaving pa: the frame after its Ethernet header.
					want := slices.Concat(hdr(PacketOutgoing, env.AIdx, binary.BigEndian.Uint16(f[12:])), f[14:])
					if p := out[j]; !bytes.Equal(p.data, want) || p.ci.Length != len(want) || p.ci.CaptureLength != len(want) {
						t.Errorf("outgoing %d: Length %d CaptureLength %d, got\n%s\nwant\n%s", j, p.ci.Length, p.ci.CaptureLength, hexdump(p.data), hexdump(want))
					}
					// Arriving on pb.
					if i < n {
						want = slices.Concat(hdr(PacketHost, env.BIdx, liveType), f[14:])
					} else {
						// The tag is back after the cooked header, whose
						// protocol is the tag's TPID.
						c := tagged[i-n]
						// SLL: ... TPID, TCI, inner type; SLL2: TPID
						// first, TCI and inner type after the header. Both
						// are the header with the TPID, then the frame from
						// its TCI on.
						want = slices.Concat(hdr(PacketHost, env.BIdx, c.tpid), f[14:])
						if vt := in[j].ci.VLAN(); vt != (VLANTag{Present: true, TCI: c.tci, TPID: c.tpid}) {
							t.Errorf("%s: VLAN %+v", c.name, vt)
						}
					}
					p := in[j]
					if !bytes.Equal(p.data, want) {
						t.Errorf("incoming %d: got\n%s\nwant\n%s", j, hexdump(p.data), hexdump(want))
					}
					if p.ci.Length != len(f)-14+hl || p.ci.CaptureLength != len(want) {
						t.Errorf("incoming %d: Length %d CaptureLength %d, want %d %d", j, p.ci.Length, p.ci.CaptureLength, len(f)-14+hl, len(want))
					}
				}
			})
		}
	}
}

// TestLivePacketTypes checks the packet type of frames to pb's address, to
// the broadcast address and to a multicast address.
func TestLivePacketTypes(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	h := env.open(env.B, Config{Timeout: 50 * time.Millisecond})
	dsts := []struct {
		mac  net.HardwareAddr
		want PacketType
	}{
		{env.BMAC, PacketHost},
		{net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, PacketBroadcast},
		{net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0x42}, PacketMulticast},
	}
	var sent [][]byte
	for i, d := range dsts {
		sent = append(sent, liveFrame(d.mac, env.AMAC, liveType, uint32(i), 100))
	}
	sendAll(t, s, sent...)
	got := collect(t, h, len(sent), isLive)
	checkFrames(t, got, sent)
	for i, d := range dsts {
		if got[i].ci.PacketType() != d.want {
			t.Errorf("frame to %v: packet type %v, want %v", d.mac, got[i].ci.PacketType(), d.want)
		}
	}
}

// TestLivePromisc checks promiscuous mode: the interface is promiscuous
// while the handle is open and no longer once it is closed, and frames for
// another host are captured as PacketOtherHost.
func TestLivePromisc(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	other := net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}

	if p := env.promiscuity(env.B); p != 0 {
		t.Fatalf("promiscuity %d before the capture", p)
	}
	h := env.open(env.B, Config{Promisc: true, Timeout: 50 * time.Millisecond})
	if p := env.promiscuity(env.B); p != 1 {
		t.Errorf("promiscuity %d while capturing in promiscuous mode, want 1", p)
	}
	f := liveFrame(other, env.AMAC, liveType, 1, 100)
	sendAll(t, s, f)
	got := collect(t, h, 1, isLive)
	checkFrames(t, got, [][]byte{f})
	if got[0].ci.PacketType() != PacketOtherHost {
		t.Errorf("frame for another host: packet type %v, want otherhost", got[0].ci.PacketType())
	}
	h.Close()
	if p := env.promiscuity(env.B); p != 0 {
		t.Errorf("promiscuity %d after Close, want 0", p)
	}

	// Two promiscuous handles: the count drops with each Close.
	h1 := env.open(env.B, Config{Promisc: true})
	h2 := env.open(env.B, Config{Promisc: true})
	if p := env.promiscuity(env.B); p != 2 {
		t.Errorf("promiscuity %d with two promiscuous handles, want 2", p)
	}
	h1.Close()
	if p := env.promiscuity(env.B); p != 1 {
		t.Errorf("promiscuity %d after closing one of two, want 1", p)
	}
	h2.Close()
	if p := env.promiscuity(env.B); p != 0 {
		t.Errorf("promiscuity %d after closing both, want 0", p)
	}

	// Without promiscuous mode the interface stays as it is. A veth
	// device has no address filter: the kernel hands packet sockets frames
	// for other hosts anyway, marked as such.
	h = env.open(env.B, Config{Timeout: 50 * time.Millisecond})
	if p := env.promiscuity(env.B); p != 0 {
		t.Errorf("promiscuity %d with a non-promiscuous handle", p)
	}
	f = liveFrame(other, env.AMAC, liveType, 2, 100)
	sendAll(t, s, f)
	got = collect(t, h, 1, isLive)
	checkFrames(t, got, [][]byte{f})
	if got[0].ci.PacketType() != PacketOtherHost {
		t.Errorf("non-promiscuous, frame for another host: packet type %v, want otherhost", got[0].ci.PacketType())
	}

	// "any" ignores Promisc and leaves every interface alone.
	env.open("any", Config{Promisc: true})
	if pa, pb := env.promiscuity(env.A), env.promiscuity(env.B); pa != 0 || pb != 0 {
		t.Errorf("promiscuity pa %d pb %d with a promiscuous handle on any, want 0", pa, pb)
	}
}

// TestLiveDirection checks that DirectionIn sees only frames pb receives,
// DirectionOut only frames pb sends, and the default both.
func TestLiveDirection(t *testing.T) {
	for _, v := range liveVersions {
		t.Run(v.String(), func(t *testing.T) {
			env := newLiveEnv(t)
			s := env.Sender(env.A)
			cfg := Config{TPacketVersion: v, Timeout: 50 * time.Millisecond}
			cfg.Direction = DirectionIn
			hIn := env.open(env.B, cfg)
			cfg.Direction = DirectionOut
			hOut := env.open(env.B, cfg)
			cfg.Direction = DirectionInOut
			hAll := env.open(env.B, cfg)
			w := env.open(env.B, Config{})

			const n = 10
			var in, out [][]byte
			for i := 0; i < n; i++ {
				in = append(in, liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), 100))
				out = append(out, liveFrame(env.AMAC, env.BMAC, liveType, uint32(100+i), 100))
			}
			sendAll(t, s, in...)
			for _, f := range out {
				if err := w.WritePacketData(f); err != nil {
					t.Fatal(err)
				}
			}

			got := collect(t, hIn, n, isLive)
			checkFrames(t, got, in)
			got = collect(t, hOut, n, isLive)
			checkFrames(t, got, out)
			for _, p := range got {
				if p.ci.PacketType() != PacketOutgoing || p.ci.InterfaceIndex != env.BIdx {
					t.Errorf("sent frame: packet type %v ifindex %d, want outgoing %d", p.ci.PacketType(), p.ci.InterfaceIndex, env.BIdx)
				}
			}
			got = collect(t, hAll, 2*n, isLive)
			var gotIn, gotOut [][]byte
			for _, p := range got {
				if p.ci.PacketType() == PacketOutgoing {
					gotOut = append(gotOut, p.data)
				} else {
					gotIn = append(gotIn, p.data)
				}
			}
			if !slices.EqualFunc(gotIn, in, bytes.Equal) || !slices.EqualFunc(gotOut, out, bytes.Equal) {
				t.Errorf("DirectionInOut: got %d in and %d out, want the %d sent each way", len(gotIn), len(gotOut), n)
			}
			quiet := 150 * time.Millisecond
			for name, h := range map[string]*Handle{"in": hIn, "out": hOut, "inout": hAll} {
				if extra := drainExtra(t, h, isLive, quiet); len(extra) != 0 {
					t.Errorf("direction %s: %d extra frames, first %s", name, len(extra), hexdump(extra[0].data))
				}
			}

			// SetDirection changes what is delivered from then on.
			if err := hAll.SetDirection(DirectionOut); err != nil {
				t.Fatal(err)
			}
			sendAll(t, s, in[0])
			if err := w.WritePacketData(out[0]); err != nil {
				t.Fatal(err)
			}
			got = collect(t, hAll, 1, isLive)
			checkFrames(t, got, out[:1])
			if extra := drainExtra(t, hAll, isLive, quiet); len(extra) != 0 {
				t.Errorf("after SetDirection(out): %d extra frames, first %s", len(extra), hexdump(extra[0].data))
			}
			if err := hAll.SetDirection(Direction(7)); err == nil {
				t.Error("SetDirection(7) succeeded")
			}
		})
	}
}

// TestLiveLoopback checks that a packet over the loopback device, which the
// kernel shows to packet sockets twice (as sent and as received), is
// captured once, on "lo" and on "any".
func TestLiveLoopback(t *testing.T) {
	env := newLiveEnv(t)
	for _, dev := range []string{"lo", "any"} {
		for _, v := range liveVersions {
			t.Run(dev+"/"+v.String(), func(t *testing.T) {
				h := env.open(dev, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
				const n = 5
				markers := make([][]byte, n)
				err := env.Do(func() error {
					rx, err := net.ListenPacket("udp4", "127.0.0.1:0")
					if err != nil {
						return err
					}
					defer rx.Close()
					tx, err := net.Dial("udp4", rx.LocalAddr().String())
					if err != nil {
						return err
					}
					defer tx.Close()
					for i := range markers {
						markers[i] = []byte("purecap-loopback-" + v.String() + "-" + dev + "-" + string(rune('a'+i)))
						if _, err := tx.Write(markers[i]); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				count := make([]int, n)
				match := func(data []byte, ci CaptureInfo) bool {
					for i, m := range markers {
						if bytes.Contains(data, m) {
							count[i]++
							if ci.InterfaceIndex != env.LoIdx || ci.PacketType() != PacketHost {
								t.Errorf("datagram %d: ifindex %d type %v, want %d host", i, ci.InterfaceIndex, ci.PacketType(), env.LoIdx)
							}
							return true
						}
					}
					return false
				}
				collect(t, h, n, match)
				drainExtra(t, h, match, 150*time.Millisecond)
				for i, c := range count {
					if c != 1 {
						t.Errorf("datagram %d captured %d times, want once", i, c)
					}
				}
			})
		}
	}
}

// TestLiveWritePacketData sends frames with a handle on pa and captures them
// with a handle on pb.
func TestLiveWritePacketData(t *testing.T) {
	env := newLiveEnv(t)
	ha := env.open(env.A, Config{Timeout: 50 * time.Millisecond})
	hb := env.open(env.B, Config{Timeout: 50 * time.Millisecond})
	var sent [][]byte
	for i := 0; i < 50; i++ {
		f := liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), 60+i*29)
		sent = append(sent, f)
		if err := ha.WritePacketData(f); err != nil {
			t.Fatalf("WritePacketData frame %d: %v", i, err)
		}
	}
	checkFrames(t, collect(t, hb, len(sent), isLive), sent)

	// A cooked capture cannot send.
	any := env.open("any", Config{})
	if err := any.WritePacketData(sent[0]); err == nil || errors.Is(err, ErrClosed) {
		t.Errorf("WritePacketData on any: %v, want an error", err)
	}
}

// TestLiveStatsOverload fills a tiny ring with a burst nobody reads, then
// reads everything: every packet the kernel counted was either delivered or
// dropped, and some were dropped.
func TestLiveStatsOverload(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	if err := s.QdiscBypass(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"TPACKET_V3", Config{TPacketVersion: TPacketV3, BufferSize: 64 << 10, BlockSize: 16 << 10}},
		{"TPACKET_V2", Config{TPacketVersion: TPacketV2, BufferSize: 64 << 10, Snaplen: 256}},
		{"TPACKET_V1", Config{TPacketVersion: TPacketV1, BufferSize: 64 << 10, Snaplen: 256}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Timeout = 50 * time.Millisecond
			cfg.Protocol = liveType // nothing else is counted
			h := env.open(env.B, cfg)
			t.Logf("ring %+v", h.Ring())
			const burst = 5000
			frames := make([][]byte, 0, burst+10)
			for i := 0; i < burst; i++ {
				frames = append(frames, liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), 60))
			}
			// Frames of another protocol are not counted.
			for i := 0; i < 10; i++ {
				frames = append(frames, liveFrame(env.BMAC, env.AMAC, liveOtherType, uint32(i), 60))
			}
			sendAll(t, s, frames...)

			delivered, last := 0, -1
			prev := -1
			var st Stats
			deadline := time.Now().Add(liveWait)
			for {
				// The timeout holds after an overflow too.
				stop := watchdog(liveWait, h.BreakLoop)
				start := time.Now()
				n, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
					et, seq, _ := seqOf(data)
					if et != liveType {
						t.Errorf("frame of ethertype %#x captured", et)
						return
					}
					if int(seq) <= last {
						t.Errorf("frame %d after frame %d", seq, last)
					}
					last = int(seq)
					delivered++
				})
				stop()
				if d := time.Since(start); err != nil || d > liveSlack {
					t.Fatalf("Dispatch = %d, %v after %v, with a timeout of %v", n, err, d, cfg.Timeout)
				}
				st, err = h.Stats()
				if err != nil {
					t.Fatal(err)
				}
				// Done when all is accounted for and nothing came in since
				// the last look, a Dispatch that waited in vain ago:
				// packets can still wait in the kernel's backlog after the
				// sends returned.
				if n == 0 && st.PacketsReceived == delivered+st.PacketsDropped && st.PacketsReceived == prev {
					break
				}
				prev = st.PacketsReceived
				if time.Now().After(deadline) {
					t.Fatalf("stats %+v, %d delivered: received != delivered + dropped", st, delivered)
				}
			}
			t.Logf("stats %+v, %d delivered", st, delivered)
			if st.PacketsDropped == 0 || delivered == 0 {
				t.Errorf("stats %+v, %d delivered: want drops and deliveries", st, delivered)
			}
			if st.PacketsReceived > burst {
				t.Errorf("%d packets received, only %d sent", st.PacketsReceived, burst)
			}
			if cfg.TPacketVersion == TPacketV3 && st.QueueFreezes == 0 {
				t.Errorf("stats %+v: a full V3 ring froze no queue", st)
			}
			// Nothing more arrives: the counters stay.
			st2, err := h.Stats()
			if err != nil || st2 != st {
				t.Errorf("Stats again = %+v, %v; want %+v", st2, err, st)
			}
		})
	}
}

// TestLiveStatsCumulative checks exact counts without overload, across
// several Stats calls.
func TestLiveStatsCumulative(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	for _, v := range liveVersions {
		t.Run(v.String(), func(t *testing.T) {
			// Snaplen keeps V1/V2 frames small: the ring holds the 500.
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond, Snaplen: 1514})
			want := Stats{}
			if st, err := h.Stats(); err != nil || st != want {
				t.Fatalf("Stats before traffic = %+v, %v", st, err)
			}
			for _, n := range []int{500, 100, 1} {
				var sent [][]byte
				for i := 0; i < n; i++ {
					sent = append(sent, liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), 60+i%200))
				}
				sendAll(t, s, sent...)
				checkFrames(t, collect(t, h, n, isLive), sent)
				want.PacketsReceived += n
				for i := 0; i < 2; i++ {
					if st, err := h.Stats(); err != nil || st != want {
						t.Fatalf("Stats after %d more = %+v, %v; want %+v", n, st, err, want)
					}
				}
			}
		})
	}
}

// TestLiveTimeout checks the timeout: Dispatch returns (0, nil) when it
// expires, ReadPacketData ErrTimeout, and non-blocking reads return at once.
func TestLiveTimeout(t *testing.T) {
	env := newLiveEnv(t)
	const timeout = 100 * time.Millisecond
	for _, v := range liveVersions {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: timeout})
			start := time.Now()
			n, err := h.Dispatch(-1, func([]byte, CaptureInfo) { t.Error("packet delivered") })
			if d := time.Since(start); n != 0 || err != nil || d < timeout/2 || d > liveSlack {
				t.Errorf("Dispatch = %d, %v after %v; want 0, nil after about %v", n, err, d, timeout)
			}
			start = time.Now()
			_, _, err = h.ReadPacketData()
			if d := time.Since(start); !errors.Is(err, ErrTimeout) || d < timeout/2 || d > liveSlack {
				t.Errorf("ReadPacketData: %v after %v; want ErrTimeout after about %v", err, d, timeout)
			}
			start = time.Now()
			_, _, err = h.ZeroCopyReadPacketData()
			if d := time.Since(start); !errors.Is(err, ErrTimeout) || d < timeout/2 || d > liveSlack {
				t.Errorf("ZeroCopyReadPacketData: %v after %v; want ErrTimeout after about %v", err, d, timeout)
			}

			// A lone packet arrives within the timeout, even in a V3 block
			// that is far from full.
			s := env.Sender(env.A)
			f := liveFrame(env.BMAC, env.AMAC, liveType, 1, 100)
			start = time.Now()
			sendAll(t, s, f)
			checkFrames(t, collect(t, h, 1, isLive), [][]byte{f})
			if d := time.Since(start); d > liveSlack {
				t.Errorf("a lone packet took %v to arrive", d)
			}

			// Non-blocking, with a longer timeout that must not apply.
			const long = 2 * time.Second
			nb := env.open(env.B, Config{TPacketVersion: v, Timeout: long, NonBlocking: true})
			start = time.Now()
			n, err = nb.Dispatch(-1, func([]byte, CaptureInfo) {})
			if d := time.Since(start); n != 0 || err != nil || d > long/2 {
				t.Errorf("non-blocking Dispatch = %d, %v after %v", n, err, d)
			}
			start = time.Now()
			_, _, err = nb.ReadPacketData()
			if d := time.Since(start); !errors.Is(err, ErrTimeout) || d > long/2 {
				t.Errorf("non-blocking ReadPacketData: %v after %v; want ErrTimeout at once", err, d)
			}
			start = time.Now()
			_, _, err = nb.ZeroCopyReadPacketData()
			if d := time.Since(start); !errors.Is(err, ErrTimeout) || d > long/2 {
				t.Errorf("non-blocking ZeroCopyReadPacketData: %v after %v; want ErrTimeout at once", err, d)
			}
			// ... and blocking again.
			if err := nb.SetNonBlocking(false); err != nil {
				t.Fatal(err)
			}
			start = time.Now()
			stop := watchdog(liveWait, nb.BreakLoop)
			_, _, err = nb.ReadPacketData()
			stop()
			if d := time.Since(start); !errors.Is(err, ErrTimeout) || d < long/2 || d > long+liveSlack {
				t.Errorf("ReadPacketData after SetNonBlocking(false): %v after %v; want ErrTimeout after %v", err, d, long)
			}
			// Blocking forever (Timeout 0) but non-blocking: returns at once.
			nb0 := env.open(env.B, Config{TPacketVersion: v, NonBlocking: true})
			stop = watchdog(liveWait, nb0.BreakLoop)
			start = time.Now()
			n, err = nb0.Dispatch(-1, func([]byte, CaptureInfo) {})
			stop()
			if d := time.Since(start); n != 0 || err != nil || d > long/2 {
				t.Errorf("non-blocking Dispatch, timeout 0 = %d, %v after %v", n, err, d)
			}
		})
	}
}

// liveFilter accepts frames of ethertype liveType only.
func liveFilter(t testing.TB) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: liveType, SkipFalse: 1},
		bpf.RetConstant{Val: 0x40000},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// liveFilterRings are the ring layouts the filter tests swap a filter on:
// where packets from before the swap can still sit.
var liveFilterRings = []struct {
	name string
	cfg  Config
}{
	{"TPACKET_V1", Config{TPacketVersion: TPacketV1}},
	{"TPACKET_V2", Config{TPacketVersion: TPacketV2}},
	// The early packets still in the block the kernel fills.
	{"TPACKET_V3/open-block", Config{TPacketVersion: TPacketV3, BlockTimeout: 2 * time.Second}},
	// The early packets in blocks handed over.
	{"TPACKET_V3/retired-blocks", Config{TPacketVersion: TPacketV3, BlockSize: 4096, BlockTimeout: time.Millisecond}},
}

// TestLiveSetBPF checks that a filter drops what it rejects, and that
// packets that arrived before it was set, still unread in the ring, are not
// delivered after.
func TestLiveSetBPF(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	other := func(data []byte, _ CaptureInfo) bool { et, _, _ := seqOf(data); return et != liveType }
	for _, c := range liveFilterRings {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Timeout = 50 * time.Millisecond
			h := env.open(env.B, cfg)

			// Early frames of another ethertype, unread.
			var early [][]byte
			for i := 0; i < 50; i++ {
				early = append(early, liveFrame(env.BMAC, env.AMAC, liveOtherType, uint32(i), 200))
			}
			sendAll(t, s, early...)
			deadline := time.Now().Add(liveWait)
			for {
				st, err := h.Stats()
				if err != nil {
					t.Fatal(err)
				}
				if st.PacketsReceived >= len(early) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("stats %+v: the early frames did not reach the ring", st)
				}
				time.Sleep(time.Millisecond)
			}
			if err := h.SetBPF(liveFilter(t)); err != nil {
				t.Fatal(err)
			}
			var sent [][]byte
			for i := 0; i < 10; i++ {
				sent = append(sent, liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), 100))
				// Rejected by the filter.
				sendAll(t, s, liveFrame(env.BMAC, env.AMAC, liveOtherType, uint32(100+i), 100))
			}
			sendAll(t, s, sent...)
			var bad []livePkt
			got := collect(t, h, len(sent), func(data []byte, ci CaptureInfo) bool {
				if other(data, ci) {
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
			st, err := h.Stats()
			if err != nil || st.PacketsReceived != len(early)+len(sent) || st.PacketsDropped != 0 {
				t.Errorf("Stats = %+v, %v; want %d received", st, err, len(early)+len(sent))
			}
		})
	}

	t.Run("invalid", func(t *testing.T) {
		h := env.open(env.B, Config{Timeout: 50 * time.Millisecond})
		if err := h.SetBPF(nil); err == nil {
			t.Error("SetBPF(nil) succeeded")
		}
		// Jumps past the end: the kernel refuses it.
		bad := []bpf.RawInstruction{{Op: 0x05, K: 10}, {Op: 0x06, K: 0}}
		if err := h.SetBPF(bad); err == nil {
			t.Error("SetBPF of an invalid program succeeded")
		}
		// The handle still works.
		f := liveFrame(env.BMAC, env.AMAC, liveType, 1, 100)
		sendAll(t, s, f)
		checkFrames(t, collect(t, h, 1, isLive), [][]byte{f})
	})
}

// TestLiveFindAllDevs lists the namespace's devices.
func TestLiveFindAllDevs(t *testing.T) {
	env := newLiveEnv(t)
	var devs []Interface
	if err := env.Do(func() (err error) { devs, err = FindAllDevs(); return err }); err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	var names []string
	for _, d := range devs {
		idx[d.Name] = d.Index
		names = append(names, d.Name)
	}
	want := map[string]int{env.A: env.AIdx, env.B: env.BIdx, "lo": env.LoIdx, "any": 0}
	for name, i := range want {
		if got, ok := idx[name]; !ok || got != i {
			t.Errorf("device %s: index %d (listed %v), want %d", name, got, ok, i)
		}
	}
	if len(devs) != len(want) || names[len(names)-1] != "any" {
		t.Errorf("devices %v, want pa, pb, lo then any", names)
	}
}
