//go:build linux

package pcap

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var allVersions = []TPacketVersion{TPacketV1, TPacketV2, TPacketV3}

// forEachRing runs f as a subtest for every ring version and each link.
func forEachRing(t *testing.T, versions []TPacketVersion, links []linkKind, f func(t *testing.T, v TPacketVersion, link linkKind)) {
	for _, v := range versions {
		for _, link := range links {
			t.Run(fmt.Sprintf("%v/%v", v, link), func(t *testing.T) { f(t, v, link) })
		}
	}
}

// ringCapacity is how many packets a test fills a ring with: every frame, or
// enough to spread over most V3 blocks.
func ringCapacity(info RingInfo) int {
	if info.Version == TPacketV3 {
		return 3 * info.BlockNr
	}
	return info.FrameNr
}

func TestRingInOrder(t *testing.T) {
	forEachRing(t, allVersions, allLinks, func(t *testing.T, v TPacketVersion, link linkKind) {
		infos := []RingInfo{testFrames(v), testGapFrames(v)}
		if v == TPacketV3 {
			infos = []RingInfo{testBlocks, blocksInfo(4096, 3)}
		}
		for _, info := range infos {
			t.Run(fmt.Sprintf("%dx%d", info.FrameNr, info.FrameSize), func(t *testing.T) {
				k, r := newTestRing(t, info, link, DefaultSnaplen, DirectionInOut)
				ps := makePkts(link, ringCapacity(info))
				k.rcvAll(t, ps)
				k.retire()
				checkPkts(t, readAll(t, r), k.wantAll(ps, DefaultSnaplen))
				checkOwned(t, k)
			})
		}
	})
}

func TestRingWrap(t *testing.T) {
	// Rounds of a few packets that do not divide the ring walk it round
	// several times, starting each round at a different frame or block.
	forEachRing(t, allVersions, []linkKind{linkEthernet, linkSLL2}, func(t *testing.T, v TPacketVersion, link linkKind) {
		info := testInfo(v)
		k, r := newTestRing(t, info, link, DefaultSnaplen, DirectionInOut)
		for round := 0; round < 4*info.BlockNr; round++ {
			ps := sizedPkts(link, 3*round, 3, 1000)
			k.rcvAll(t, ps)
			k.retire()
			checkPkts(t, readAll(t, r), k.wantAll(ps, DefaultSnaplen))
			checkOwned(t, k)
		}
	})
}

func TestRingFull(t *testing.T) {
	// The kernel drops what does not fit; what it kept is read in order, and
	// the ring then fills again from where it stopped.
	forEachRing(t, allVersions, []linkKind{linkEthernet}, func(t *testing.T, v TPacketVersion, link linkKind) {
		k, r := newTestRing(t, testInfo(v), link, DefaultSnaplen, DirectionInOut)
		var kept []testPkt
		for i := 0; k.drops == 0; i++ {
			if p := makePkt(link, i, 1000); k.rcv(p) {
				kept = append(kept, p)
			}
		}
		checkOwned(t, k, seq(0, r.info.FrameNr)...) // every frame, or every V3 block
		checkPkts(t, readAll(t, r), k.wantAll(kept, DefaultSnaplen))
		more := makePkts(link, 5)
		k.rcvAll(t, more)
		k.retire()
		checkPkts(t, readAll(t, r), k.wantAll(more, DefaultSnaplen))
		checkOwned(t, k)
	})
}

// seq returns the integers from lo up to hi, excluded.
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func TestRingV3CountLimits(t *testing.T) {
	// Three full blocks of seven packets read cnt at a time, as Dispatch
	// does: a block stays user space's until its last packet has been read,
	// and goes back at the release that follows.
	const perBlock = 7 // 48 + 7*v3Align(86+1000) <= 8192 < 48 + 8*1088
	for _, cnt := range []int{1, 2, 3, 6, 7, 8, 20, 100} {
		t.Run(fmt.Sprint(cnt), func(t *testing.T) {
			k, r := newTestRing(t, testBlocks, linkEthernet, DefaultSnaplen, DirectionInOut)
			ps := sizedPkts(linkEthernet, 0, 3*perBlock, 1000)
			k.rcvAll(t, ps)
			k.retire()
			checkOwned(t, k, 0, 1, 2)
			var got []gotPkt
			for len(got) < len(ps) {
				n := 0
				for ; n < cnt; n++ {
					g, ok := nextPkt(t, r)
					if !ok {
						break
					}
					got = append(got, g)
				}
				if n == 0 {
					t.Fatalf("next reports nothing after %d of %d packets", len(got), len(ps))
				}
				r.release()
				// Blocks whose packets were not all read are still held.
				checkOwned(t, k, seq(len(got)/perBlock, 3)...)
			}
			checkPkts(t, got, k.wantAll(ps, DefaultSnaplen))
			if _, ok := nextPkt(t, r); ok {
				t.Fatal("a packet after the last")
			}
		})
	}
}

func TestRingRelease(t *testing.T) {
	// The frame or block of the packet returned last stays user space's, so
	// that its data stays valid, until the following next or release.
	t.Run("frames", func(t *testing.T) {
		for _, v := range []TPacketVersion{TPacketV1, TPacketV2} {
			t.Run(v.String(), func(t *testing.T) {
				k, r := newTestRing(t, testInfo(v), linkEthernet, DefaultSnaplen, DirectionInOut)
				ps := makePkts(linkEthernet, 3)
				k.rcvAll(t, ps)
				want := k.wantAll(ps, DefaultSnaplen)
				step := func(wantPkt int, owned ...int) {
					t.Helper()
					g, ok := nextPkt(t, r)
					if wantPkt < 0 {
						if ok {
							t.Fatalf("got %v, want nothing", g)
						}
					} else {
						checkPkts(t, []gotPkt{g}, want[wantPkt:wantPkt+1])
					}
					checkOwned(t, k, owned...)
				}
				step(0, 0, 1, 2)
				step(1, 1, 2)
				r.release()
				checkOwned(t, k, 2)
				r.release() // nothing held: the unread frame stays
				checkOwned(t, k, 2)
				step(2, 2)
				step(-1)
			})
		}
	})
	t.Run("blocks", func(t *testing.T) {
		for _, byRelease := range []bool{false, true} {
			t.Run(fmt.Sprintf("release=%v", byRelease), func(t *testing.T) {
				k, r := newTestRing(t, testBlocks, linkEthernet, DefaultSnaplen, DirectionInOut)
				ps := makePkts(linkEthernet, 3)
				k.rcvAll(t, ps[:2])
				k.retire()
				k.rcvAll(t, ps[2:])
				k.retire()
				want := k.wantAll(ps, DefaultSnaplen)
				var got []gotPkt
				for i := 0; i < 2; i++ {
					g, _ := nextPkt(t, r)
					got = append(got, g)
					checkOwned(t, k, 0, 1) // the last packet's block too
				}
				if byRelease {
					r.release()
					checkOwned(t, k, 1)
				}
				g, _ := nextPkt(t, r)
				checkOwned(t, k, 1)
				checkPkts(t, append(got, g), want)
				r.release()
				checkOwned(t, k)
			})
		}
	})
}

func TestRingReady(t *testing.T) {
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			k, r := newTestRing(t, testInfo(v), linkEthernet, DefaultSnaplen, DirectionInOut)
			check := func(when string, want bool) {
				t.Helper()
				if got := r.ready(); got != want {
					t.Fatalf("%s: ready() = %v, want %v", when, got, want)
				}
			}
			check("empty ring", false)
			k.rcvAll(t, makePkts(linkEthernet, 2))
			check("packets received", v != TPacketV3) // a V3 block is handed over when retired
			k.retire()
			check("block retired", true)
			nextPkt(t, r)
			check("one packet read", true)
			nextPkt(t, r)
			if _, ok := nextPkt(t, r); ok {
				t.Fatal("a third packet")
			}
			check("all read", false)
		})
	}
}

func TestRingVLAN(t *testing.T) {
	// A tag the kernel took out is put back: after the MAC addresses for
	// Ethernet, in the SLL header's protocol field for cooked captures.
	// V1 rings do not report tags.
	cases := []struct {
		name        string
		tci, tpid   uint16
		noTPIDValid bool
		filter      int
	}{
		{name: "802.1Q", tci: 0x2064, tpid: 0x8100},
		{name: "802.1ad", tci: 0xefff, tpid: 0x88a8},
		{name: "VLAN 0", tci: 0, tpid: 0x8100},
		{name: "priority only", tci: 0xe000, tpid: 0x8100},
		{name: "no TPID_VALID", tci: 0x0064, tpid: 0x88a8, noTPIDValid: true},
		{name: "capture shorter than the MAC addresses", tci: 0x0064, tpid: 0x8100, filter: 11},
		{name: "capture of the MAC addresses only", tci: 0x0064, tpid: 0x8100, filter: 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forEachRing(t, allVersions, allLinks, func(t *testing.T, v TPacketVersion, link linkKind) {
				k, r := newTestRing(t, testInfo(v), link, DefaultSnaplen, DirectionInOut)
				k.noTPIDValid, k.filter = c.noTPIDValid, c.filter
				ps := makePkts(link, 6)
				for i := range ps {
					ps[i].vlan, ps[i].tci, ps[i].tpid = i%2 == 0, c.tci, c.tpid
				}
				k.rcvAll(t, ps)
				k.retire()
				got := readAll(t, r)
				checkPkts(t, got, k.wantAll(ps, DefaultSnaplen))
				if v == TPacketV1 {
					return
				}
				for i, g := range got {
					if g.ci.VLAN().Present != ps[i].vlan {
						t.Fatalf("packet %d: VLAN %+v, tagged %v", i, g.ci.VLAN(), ps[i].vlan)
					}
				}
			})
		})
	}
}

func TestRingVLANLayout(t *testing.T) {
	// The bytes around a re-inserted 802.1ad tag, TCI 0x0064, in an IPv4
	// packet of 40 bytes (54 with its Ethernet header).
	tag := "88a80064"
	cases := []struct {
		link linkKind
		want string // hex, up to the IPv4 header
	}{
		{linkEthernet, "020000000002020000000001" + tag + "0800"},
		{linkSLL, "0000" + "0001" + "0006" + "0200000000010000" + tag + "0800"},
		{linkSLL2, "88a8" + "0000" + "00000003" + "0001" + "00" + "06" + "0200000000010000" + "0064" + "0800"},
	}
	for _, c := range cases {
		for _, v := range []TPacketVersion{TPacketV2, TPacketV3} {
			t.Run(fmt.Sprintf("%v/%v", v, c.link), func(t *testing.T) {
				k, r := newTestRing(t, testInfo(v), c.link, DefaultSnaplen, DirectionInOut)
				p := makePkt(c.link, 0, 40+c.link.maclen())
				p.vlan, p.tci, p.tpid = true, 0x0064, 0x88a8
				k.rcvAll(t, []testPkt{p})
				k.retire()
				g, ok := nextPkt(t, r)
				if !ok {
					t.Fatal("no packet")
				}
				want, _ := hex.DecodeString(c.want)
				ip := p.data[c.link.maclen():]
				if got := g.data[:len(want)]; string(got) != string(want) || string(g.data[len(want):]) != string(ip) {
					t.Fatalf("data\n% x\nwant\n% x + IPv4 header", g.data, want)
				}
				if g.ci.CaptureLength != len(want)+40 || g.ci.Length != len(want)+40 {
					t.Fatalf("CaptureLength %d, Length %d, want %d", g.ci.CaptureLength, g.ci.Length, len(want)+40)
				}
				if g.ci.VLAN() != (VLANTag{Present: true, TCI: 0x0064, TPID: 0x88a8}) || g.ci.VLAN().ID() != 100 {
					t.Fatalf("VLAN %+v", g.ci.VLAN())
				}
			})
		}
	}
}

func TestRingCookedHeader(t *testing.T) {
	// Cooked headers, all fields big-endian, as in the LINKTYPE_LINUX_SLL
	// and LINKTYPE_LINUX_SLL2 documentation.
	cases := []struct {
		name      string
		p         testPkt
		sll, sll2 string
	}{{
		name: "ARP broadcast on Ethernet",
		p: testPkt{pkttype: PacketBroadcast, hatype: unix.ARPHRD_ETHER, ifindex: 7, proto: unix.ETH_P_ARP,
			addr: []byte{0x02, 0, 0, 0, 0, 0x01}},
		sll:  "0001 0001 0006 0200000000010000 0806",
		sll2: "0806 0000 00000007 0001 01 06 0200000000010000",
	}, {
		name: "IPv6 sent on a GRE tunnel",
		p: testPkt{pkttype: PacketOutgoing, hatype: unix.ARPHRD_IPGRE, ifindex: 0x01020304, proto: unix.ETH_P_IPV6,
			addr: []byte{10, 0, 0, 1}},
		sll:  "0004 030a 0004 0a00000100000000 86dd",
		sll2: "86dd 0000 01020304 030a 04 04 0a00000100000000",
	}, {
		name: "eight-byte address",
		p: testPkt{pkttype: PacketOtherHost, hatype: unix.ARPHRD_NONE, ifindex: 1, proto: 0x88b5,
			addr: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		sll:  "0003 fffe 0008 0102030405060708 88b5",
		sll2: "88b5 0000 00000001 fffe 03 08 0102030405060708",
	}}
	for _, c := range cases {
		for _, link := range []linkKind{linkSLL, linkSLL2} {
			for _, v := range allVersions {
				t.Run(fmt.Sprintf("%s/%v/%v", c.name, link, v), func(t *testing.T) {
					k, r := newTestRing(t, testInfo(v), link, DefaultSnaplen, DirectionInOut)
					p := c.p
					p.data = []byte{0x45, 0, 0, 28, 1, 2, 3, 4}
					p.ts = time.Unix(1, 0)
					k.rcvAll(t, []testPkt{p})
					k.retire()
					hdr := c.sll
					if link == linkSLL2 {
						hdr = c.sll2
					}
					want, err := hex.DecodeString(strings.ReplaceAll(hdr, " ", "") + "4500001c01020304")
					if err != nil {
						t.Fatal(err)
					}
					g, ok := nextPkt(t, r)
					if !ok {
						t.Fatal("no packet")
					}
					if string(g.data) != string(want) || g.ci.Length != len(want) {
						t.Fatalf("got  % x (Length %d)\nwant % x", g.data, g.ci.Length, want)
					}
					if g.ci.PacketType() != p.pkttype || g.ci.InterfaceIndex != int(p.ifindex) {
						t.Fatalf("PacketType %v, InterfaceIndex %d", g.ci.PacketType(), g.ci.InterfaceIndex)
					}
				})
			}
		}
	}
}

func TestRingCookedAddressLeftovers(t *testing.T) {
	// The kernel writes only the address's halen bytes into a frame's
	// sockaddr_ll: the cooked header has zeros after them, not the end of
	// a longer address the frame held before.
	forEachRing(t, allVersions, []linkKind{linkSLL, linkSLL2}, func(t *testing.T, v TPacketVersion, link linkKind) {
		info := framesInfo(v, 4096, 2048, 1)
		if v == TPacketV3 {
			info = blocksInfo(4096, 2)
		}
		k, r := newTestRing(t, info, link, DefaultSnaplen, DirectionInOut)
		for _, addr := range [][]byte{{1, 2, 3, 4, 5, 6, 7, 8}, {0x02, 0, 0, 0, 0, 0x01}, {10, 0, 0, 1}, {}} {
			ps := makePkts(link, 2)
			for i := range ps {
				ps[i].addr = addr
				k.rcvAll(t, ps[i:i+1])
				k.retire() // V3: a block each
			}
			checkPkts(t, readAll(t, r), k.wantAll(ps, DefaultSnaplen))
		}
	})
}

func TestRingSnaplen(t *testing.T) {
	// No packet is longer than the snapshot length, whatever header the
	// walker puts in front, and whether or not the socket filter had the
	// kernel copy no more; the wire length is that of the whole packet.
	snaplens := []int{1, 4, 11, 12, 13, 14, 15, 16, 17, 19, 20, 23, 24, 25, 60, 64, 1514, 65535, DefaultSnaplen}
	forEachRing(t, allVersions, allLinks, func(t *testing.T, v TPacketVersion, link linkKind) {
		for i := range 2 * len(snaplens) {
			snaplen, filtered := snaplens[i/2], i%2 == 0
			k, r := newTestRing(t, testInfo(v), link, snaplen, DirectionInOut)
			if filtered {
				k.filter = snaplen
			}
			var ps []testPkt
			for i, size := range []int{1, snaplen - 1, snaplen, snaplen + 1, 60, 1514, snaplen, snaplen + 1} {
				p := makePkt(link, i, min(max(size, 1), 1514))
				p.vlan, p.tci, p.tpid = i >= 6, uint16(i), 0x8100
				ps = append(ps, p)
			}
			k.rcvAll(t, ps)
			k.retire()
			got := readAll(t, r)
			checkPkts(t, got, k.wantAll(ps, snaplen))
			for i, g := range got {
				full := k.want(ps[i], 1<<30) // same wire length, whatever the snapshot
				if g.ci.CaptureLength > snaplen || g.ci.Length != full.ci.Length {
					t.Fatalf("snaplen %d, packet %d: CaptureLength %d, Length %d, want <= %d and %d",
						snaplen, i, g.ci.CaptureLength, g.ci.Length, snaplen, full.ci.Length)
				}
			}
		}
	})
}

func TestRingDirection(t *testing.T) {
	pkttypes := []struct {
		pkttype PacketType
		hatype  uint16
	}{
		{PacketHost, unix.ARPHRD_ETHER},
		{PacketBroadcast, unix.ARPHRD_ETHER},
		{PacketMulticast, unix.ARPHRD_ETHER},
		{PacketOtherHost, unix.ARPHRD_ETHER},
		{PacketOutgoing, unix.ARPHRD_ETHER},
		{PacketOutgoing, unix.ARPHRD_LOOPBACK}, // the sent copy of a loopback packet
		{PacketHost, unix.ARPHRD_LOOPBACK},     // and its received copy
		{PacketOutgoing, unix.ARPHRD_ETHER},
	}
	want := map[Direction][]int{
		DirectionInOut: {0, 1, 2, 3, 4, 6, 7},
		DirectionIn:    {0, 1, 2, 3, 6},
		DirectionOut:   {4, 7},
	}
	for dir, idx := range want {
		t.Run(dir.String(), func(t *testing.T) {
			forEachRing(t, allVersions, allLinks, func(t *testing.T, v TPacketVersion, link linkKind) {
				k, r := newTestRing(t, testInfo(v), link, DefaultSnaplen, dir)
				ps := makePkts(link, len(pkttypes))
				for i, pt := range pkttypes {
					ps[i].pkttype, ps[i].hatype = pt.pkttype, pt.hatype
					k.rcvAll(t, ps[i:i+1])
					if i == 4 || i == 5 {
						k.retire() // V3: the loopback duplicate alone in a block
					}
				}
				k.retire()
				var wantPkts []gotPkt
				for _, i := range idx {
					wantPkts = append(wantPkts, k.want(ps[i], DefaultSnaplen))
				}
				checkPkts(t, readAll(t, r), wantPkts)
				checkOwned(t, k) // skipped packets' frames went back too
			})
		})
	}
}

func TestRingTimestamps(t *testing.T) {
	cases := []struct {
		ts         time.Time
		v1, v2, v3 int64 // nanoseconds of the CaptureInfo timestamp
	}{
		{time.Unix(1700000000, 123456789), 123456000, 123456789, 123456789},
		{time.Unix(0, 0), 0, 0, 0},
		{time.Unix(1<<32-1, 999999999), 999999000, 999999999, 999999999},
		{time.Unix(1, 999), 0, 999, 999},
	}
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			k, r := newTestRing(t, testInfo(v), linkEthernet, DefaultSnaplen, DirectionInOut)
			for i, c := range cases {
				p := makePkt(linkEthernet, i, 60)
				p.ts = c.ts
				k.rcvAll(t, []testPkt{p})
			}
			k.retire()
			got := readAll(t, r)
			if len(got) != len(cases) {
				t.Fatalf("got %d packets", len(got))
			}
			for i, c := range cases {
				nsec := map[TPacketVersion]int64{TPacketV1: c.v1, TPacketV2: c.v2, TPacketV3: c.v3}[v]
				if want := time.Unix(c.ts.Unix(), nsec); !got[i].ci.Time().Equal(want) {
					t.Errorf("timestamp %v: got %v, want %v", c.ts.UTC(), got[i].ci.Time().UTC(), want.UTC())
				}
			}
		})
	}
}

func TestRingMetadata(t *testing.T) {
	// Interface index, packet type and (V3 only) flow hash come through.
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			k, r := newTestRing(t, testInfo(v), linkEthernet, DefaultSnaplen, DirectionInOut)
			p := makePkt(linkEthernet, 0, 60)
			p.ifindex, p.pkttype, p.rxhash = 0x7ffffffe, PacketMulticast, 0xdeadbeef
			k.rcvAll(t, []testPkt{p})
			k.retire()
			g, _ := nextPkt(t, r)
			wantHash := uint32(0)
			if v == TPacketV3 {
				wantHash = 0xdeadbeef
			}
			if g.ci.InterfaceIndex != 0x7ffffffe || g.ci.PacketType() != PacketMulticast || g.ci.RxHash() != wantHash {
				t.Fatalf("got %+v", g.ci)
			}
		})
	}
}

func TestRingDrain(t *testing.T) {
	// drain drops everything already in the ring: only packets that arrive
	// afterwards are read.
	const perBlock = 7 // 1000-byte packets in testBlocks
	pkt := func(i int) testPkt { return makePkt(linkEthernet, i, 1000) }
	put := func(t *testing.T, k *fakeKernel, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			k.rcv(pkt(i))
		}
	}
	read := func(t *testing.T, r *ring, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			if _, ok := nextPkt(t, r); !ok {
				t.Fatalf("packet %d of %d missing", i, n)
			}
		}
	}
	cases := []struct {
		name     string
		versions []TPacketVersion
		before   func(t *testing.T, k *fakeKernel, r *ring) // then drain
		after    func(t *testing.T, k *fakeKernel)          // then read
		want     []int
	}{{
		name:     "empty ring",
		versions: allVersions,
		before:   func(t *testing.T, k *fakeKernel, r *ring) {},
		after:    func(t *testing.T, k *fakeKernel) { put(t, k, 0, 2) },
		want:     []int{0, 1},
	}, {
		name:     "unread frames, one held",
		versions: []TPacketVersion{TPacketV1, TPacketV2},
		before:   func(t *testing.T, k *fakeKernel, r *ring) { put(t, k, 0, 6); read(t, r, 2) },
		after:    func(t *testing.T, k *fakeKernel) { put(t, k, 6, 9) },
		want:     []int{6, 7, 8},
	}, {
		name:     "full ring",
		versions: []TPacketVersion{TPacketV1, TPacketV2},
		before:   func(t *testing.T, k *fakeKernel, r *ring) { put(t, k, 0, 9) }, // 8 frames
		after:    func(t *testing.T, k *fakeKernel) { put(t, k, 9, 11) },
		want:     []int{9, 10},
	}, {
		name:     "drained twice",
		versions: allVersions,
		before: func(t *testing.T, k *fakeKernel, r *ring) {
			put(t, k, 0, 3)
			k.retire()
			r.drain()
		},
		after: func(t *testing.T, k *fakeKernel) { put(t, k, 3, 4) },
		want:  []int{3},
	}, {
		// The kernel fills block 1 (sequence number 2, following block 0
		// handed back): its three packets are dropped when it comes.
		name:     "retired blocks and the block being filled",
		versions: []TPacketVersion{TPacketV3},
		before:   func(t *testing.T, k *fakeKernel, r *ring) { put(t, k, 0, perBlock+3) },
		after:    func(t *testing.T, k *fakeKernel) { put(t, k, perBlock+3, perBlock+5) },
		want:     []int{perBlock + 3, perBlock + 4},
	}, {
		name:     "block being filled only",
		versions: []TPacketVersion{TPacketV3},
		before:   func(t *testing.T, k *fakeKernel, r *ring) { put(t, k, 0, 3) },
		after:    func(t *testing.T, k *fakeKernel) { put(t, k, 3, 4) },
		want:     []int{3},
	}, {
		// The packets after the dropped ones fill that block and the next.
		name:     "block being filled fills up",
		versions: []TPacketVersion{TPacketV3},
		before:   func(t *testing.T, k *fakeKernel, r *ring) { put(t, k, 0, perBlock+3) },
		after:    func(t *testing.T, k *fakeKernel) { put(t, k, perBlock+3, 3*perBlock+2) },
		want:     seq(perBlock+3, 3*perBlock+2),
	}, {
		name:     "partly read block",
		versions: []TPacketVersion{TPacketV3},
		before: func(t *testing.T, k *fakeKernel, r *ring) {
			put(t, k, 0, perBlock+3)
			k.retire()
			read(t, r, 2)
		},
		after: func(t *testing.T, k *fakeKernel) { put(t, k, perBlock+3, perBlock+4) },
		want:  []int{perBlock + 3},
	}, {
		// Every block is user space's: the kernel has not opened the block
		// at the cursor again, and its packet count is from its last round.
		// Nothing is dropped when the kernel reopens it.
		name:     "frozen ring, stale block",
		versions: []TPacketVersion{TPacketV3},
		before: func(t *testing.T, k *fakeKernel, r *ring) {
			put(t, k, 0, 4*perBlock+1)
			if k.drops != 1 || !k.frozen {
				t.Fatalf("ring not full: %d drops", k.drops)
			}
		},
		after: func(t *testing.T, k *fakeKernel) { put(t, k, 100, 102) },
		want:  []int{100, 101},
	}, {
		name:     "frozen ring, one block read",
		versions: []TPacketVersion{TPacketV3},
		before: func(t *testing.T, k *fakeKernel, r *ring) {
			put(t, k, 0, 4*perBlock+1)
			read(t, r, perBlock+1)
		},
		after: func(t *testing.T, k *fakeKernel) { put(t, k, 100, 102) },
		want:  []int{100, 101},
	}}
	for _, c := range cases {
		for _, v := range c.versions {
			t.Run(fmt.Sprintf("%s/%v", c.name, v), func(t *testing.T) {
				k, r := newTestRing(t, testInfo(v), linkEthernet, DefaultSnaplen, DirectionInOut)
				c.before(t, k, r)
				r.drain()
				checkOwned(t, k)
				if _, ok := nextPkt(t, r); ok {
					t.Fatal("a packet right after drain")
				}
				c.after(t, k)
				k.retire()
				var want []gotPkt
				for _, i := range c.want {
					want = append(want, k.want(pkt(i), DefaultSnaplen))
				}
				checkPkts(t, readAll(t, r), want)
				checkOwned(t, k)
			})
		}
	}
}

func TestRingDrainSkipCorrupt(t *testing.T) {
	// After drain, the packets already in the block being filled are
	// skipped when the block comes. A bad link among them is an error, not
	// a read outside the block, and the blocks after it are read.
	k, r := newTestRing(t, testInfo(TPacketV3), linkEthernet, DefaultSnaplen, DirectionInOut)
	for i := range 3 {
		k.rcv(makePkt(linkEthernet, i, 1000))
	}
	r.drain()
	k.rcv(makePkt(linkEthernet, 3, 1000))
	k.hdr3(k.slots[1]).Next_offset = 1 << 30
	k.retire()
	var ci CaptureInfo
	if _, _, err := r.next(&ci); !errors.Is(err, ErrCorruptRing) {
		t.Fatalf("next over a bad link among skipped packets: %v, want ErrCorruptRing", err)
	}
	p := makePkt(linkEthernet, 4, 1000)
	k.rcv(p)
	k.retire()
	checkPkts(t, readAll(t, r), []gotPkt{k.want(p, DefaultSnaplen)})
	checkOwned(t, k)
}

func TestRingEmptyPacketAtRingEnd(t *testing.T) {
	// An empty packet whose data offset is the end of the last block: no
	// kernel writes one, but the walker must give it data that points into
	// the ring, not just past its end.
	const perBlock = 7 // 1000-byte packets in testBlocks
	k, r := newTestRing(t, testBlocks, linkEthernet, DefaultSnaplen, DirectionInOut)
	last := (testBlocks.BlockNr-1)*perBlock + 1
	for i := range last {
		if !k.rcv(makePkt(linkEthernet, i, 1000)) {
			t.Fatalf("packet %d dropped", i)
		}
	}
	k.retire()
	i := last - 1
	if blk := k.slots[i] / testBlocks.BlockSize; blk != testBlocks.BlockNr-1 {
		t.Fatalf("packet %d in block %d, want the last", i, blk)
	}
	mac, snaplen, _ := k.fields(i)
	*mac, *snaplen = uint16(k.slotLen(i)), 0
	got := readAll(t, r) // checkData checks where each packet's data points
	if len(got) != last {
		t.Fatalf("read %d packets, want %d", len(got), last)
	}
	if n := got[i].ci.CaptureLength; n != 0 {
		t.Fatalf("the last packet has %d bytes, want none", n)
	}
}

func TestRingCorruptLastBlock(t *testing.T) {
	// The last packet of the last block, placed by its block's first-packet
	// offset or by the link before it so that its sockaddr_ll would end
	// past the block: an error, not a read past the ring (which ends where
	// an inaccessible page begins).
	const perBlock = 7 // 1000-byte packets in testBlocks
	last := testBlocks.BlockNr - 1
	tooFar := testBlocks.BlockSize - sllEnd(TPacketV3) + 16
	for _, c := range []struct {
		name   string
		inLast int // packets in the last block
		mutate func(k *fakeKernel)
	}{
		{"first packet", 1, func(k *fakeKernel) {
			k.desc(last).Offset_to_first_pkt = uint32(tooFar)
		}},
		{"link", 2, func(k *fakeKernel) {
			off := k.slots[last*perBlock] % testBlocks.BlockSize
			k.hdr3(k.slots[last*perBlock]).Next_offset = uint32(tooFar - off)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, r := newTestRing(t, testBlocks, linkEthernet, DefaultSnaplen, DirectionInOut)
			n := last*perBlock + c.inLast
			for i := range n {
				if !k.rcv(makePkt(linkEthernet, i, 1000)) {
					t.Fatalf("packet %d dropped", i)
				}
			}
			k.retire()
			c.mutate(k)
			got, errs := 0, 0
			for range 2 * n {
				var ci CaptureInfo
				_, ok, err := r.next(&ci)
				if err != nil {
					errs++
					continue
				}
				if !ok {
					break
				}
				got++
			}
			if errs != 1 || got < last*perBlock {
				t.Fatalf("%d packets and %d errors, want at least the first %d blocks' %d packets and one error", got, errs, last, last*perBlock)
			}
		})
	}
}

func TestRingCorrupt(t *testing.T) {
	// Three packets: in frames 0, 1, 2, or in V3 packets 0 and 1 in block 0
	// and packet 2 in block 1. mutate spoils packet 0 (or block 0); want
	// lists what next returns, in order: a packet's index, or -1 for an
	// error. The spoiled frame or block goes back to the kernel by the
	// following call, and the packets after it are read.
	setMac := func(k *fakeKernel, i, x int) { m, _, _ := k.fields(i); *m = uint16(x) }
	setSnaplen := func(k *fakeKernel, i int, x uint32) { _, s, _ := k.fields(i); *s = x }
	setLen := func(k *fakeKernel, i int, x uint32) { _, _, l := k.fields(i); *l = x }
	setNext := func(k *fakeKernel, i int, x uint32) { k.hdr3(k.slots[i]).Next_offset = x }
	setFirst := func(k *fakeKernel, x uint32) { k.desc(0).Offset_to_first_pkt = x }
	setNumPkts := func(k *fakeKernel, x uint32) { k.desc(0).Num_pkts = x }
	mac := func(k *fakeKernel) int { m, _ := k.offsets(); return m }
	v123 := allVersions
	v23 := []TPacketVersion{TPacketV2, TPacketV3}
	v3 := []TPacketVersion{TPacketV3}
	frames, blocks := []int{-1, 1, 2}, []int{-1, 2}
	cases := []struct {
		name     string
		versions []TPacketVersion
		link     linkKind
		vlan     bool
		mutate   func(k *fakeKernel)
		want     []int // V3's, where it differs from V1/V2's
		wantV12  []int
	}{
		{name: "data beyond the frame", versions: v123,
			mutate: func(k *fakeKernel) { setMac(k, 0, k.slotLen(0)+16) }, want: blocks, wantV12: frames},
		{name: "data at the frame's end", versions: v123,
			mutate: func(k *fakeKernel) { setMac(k, 0, k.slotLen(0)) }, want: blocks, wantV12: frames},
		{name: "data running past the frame", versions: v123,
			mutate: func(k *fakeKernel) { setSnaplen(k, 0, uint32(k.slotLen(0)-mac(k)+1)) }, want: blocks, wantV12: frames},
		{name: "snaplen 2^32-1", versions: v123,
			mutate: func(k *fakeKernel) { setSnaplen(k, 0, 1<<32-1); setLen(k, 0, 1<<32-1) }, want: blocks, wantV12: frames},
		{name: "data over the sockaddr_ll", versions: v123,
			mutate: func(k *fakeKernel) { setMac(k, 0, sllEnd(k.info.Version)-2) }, want: blocks, wantV12: frames},
		{name: "data over the header", versions: v123,
			mutate: func(k *fakeKernel) { setMac(k, 0, 0) }, want: blocks, wantV12: frames},
		{name: "wire length below captured length", versions: v123,
			mutate: func(k *fakeKernel) { setLen(k, 0, 59) }, want: blocks, wantV12: frames},
		{name: "no room for the SLL header", versions: v123, link: linkSLL,
			mutate: func(k *fakeKernel) { setMac(k, 0, sllEnd(k.info.Version)+15) }, want: blocks, wantV12: frames},
		{name: "no room for the SLL2 header", versions: v123, link: linkSLL2,
			mutate: func(k *fakeKernel) { setMac(k, 0, sllEnd(k.info.Version)+19) }, want: blocks, wantV12: frames},
		{name: "no room for the SLL2 header and tag", versions: v23, link: linkSLL2, vlan: true,
			mutate: func(k *fakeKernel) { setMac(k, 0, sllEnd(k.info.Version)+20) }, want: blocks, wantV12: frames},
		{name: "no room for the VLAN tag", versions: v23, vlan: true,
			mutate: func(k *fakeKernel) { setMac(k, 0, sllEnd(k.info.Version)+3) }, want: blocks, wantV12: frames},
		{name: "first packet at 0", versions: v3,
			mutate: func(k *fakeKernel) { setFirst(k, 0) }, want: blocks},
		{name: "first packet in the descriptor", versions: v3,
			mutate: func(k *fakeKernel) { setFirst(k, blockDescLen-8) }, want: blocks},
		{name: "first packet past the block", versions: v3,
			mutate: func(k *fakeKernel) { setFirst(k, uint32(k.info.BlockSize)) }, want: blocks},
		{name: "first packet header past the block", versions: v3,
			mutate: func(k *fakeKernel) { setFirst(k, uint32(k.info.BlockSize-unix.SizeofTpacket3Hdr+8)) }, want: blocks},
		{name: "first packet's sockaddr_ll past the block", versions: v3,
			mutate: func(k *fakeKernel) { setFirst(k, uint32(k.info.BlockSize-sllEnd(TPacketV3)+8)) }, want: blocks},
		{name: "first packet at 2^32-1", versions: v3,
			mutate: func(k *fakeKernel) { setFirst(k, 1<<32-1) }, want: blocks},
		{name: "packet count 2^32-1", versions: v3,
			mutate: func(k *fakeKernel) { setNumPkts(k, 1<<32-1) }, want: blocks},
		{name: "more packets than headers fit", versions: v3,
			mutate: func(k *fakeKernel) {
				setNumPkts(k, uint32((k.info.BlockSize-blockDescLen)/unix.SizeofTpacket3Hdr+1))
			}, want: blocks},
		{name: "packet count beyond the chain", versions: v3,
			mutate: func(k *fakeKernel) { setNumPkts(k, 3) }, want: []int{0, -1, 2}},
		{name: "next packet at 0", versions: v3,
			mutate: func(k *fakeKernel) { setNext(k, 0, 0) }, want: blocks},
		{name: "next packet inside this one's header", versions: v3,
			mutate: func(k *fakeKernel) { setNext(k, 0, unix.SizeofTpacket3Hdr-8) }, want: blocks},
		{name: "next packet too close for this one's sockaddr_ll", versions: v3,
			mutate: func(k *fakeKernel) { setNext(k, 0, unix.SizeofTpacket3Hdr) }, want: blocks},
		{name: "next packet past the block", versions: v3,
			mutate: func(k *fakeKernel) { setNext(k, 0, uint32(k.info.BlockSize)) }, want: blocks},
		{name: "next packet header past the block", versions: v3,
			mutate: func(k *fakeKernel) {
				setNext(k, 0, uint32(k.info.BlockSize-k.slots[0]%k.info.BlockSize-unix.SizeofTpacket3Hdr+8))
			}, want: blocks},
		{name: "next packet's sockaddr_ll past the block", versions: v3,
			mutate: func(k *fakeKernel) {
				setNext(k, 0, uint32(k.info.BlockSize-k.slots[0]%k.info.BlockSize-sllEnd(TPacketV3)+8))
			}, want: blocks},
		{name: "next packet at 2^32-1", versions: v3,
			mutate: func(k *fakeKernel) { setNext(k, 0, 1<<32-1) }, want: blocks},

		// Not errors.
		{name: "valid: SLL header just fits", versions: v123, link: linkSLL,
			mutate: func(k *fakeKernel) { k.moveData(0, sllEnd(k.info.Version)+16) },
			want:   []int{0, 1, 2}, wantV12: []int{0, 1, 2}},
		{name: "valid: SLL2 header just fits", versions: v123, link: linkSLL2,
			mutate: func(k *fakeKernel) { k.moveData(0, sllEnd(k.info.Version)+20) },
			want:   []int{0, 1, 2}, wantV12: []int{0, 1, 2}},
		{name: "valid: last packet's next offset set", versions: v3,
			mutate: func(k *fakeKernel) { setNext(k, 1, 1<<32-1) }, want: []int{0, 1, 2}},
		{name: "valid: status with other bits", versions: v123,
			mutate: func(k *fakeKernel) {
				const status = unix.TP_STATUS_USER | unix.TP_STATUS_LOSING | unix.TP_STATUS_COPY | unix.TP_STATUS_CSUMNOTREADY
				if k.info.Version == TPacketV3 {
					k.setBlockStatus(0, status)
				} else {
					k.setFrameStatus(0, status)
				}
			}, want: []int{0, 1, 2}, wantV12: []int{0, 1, 2}},
		{name: "valid: block without packets", versions: v3,
			mutate: func(k *fakeKernel) { setNumPkts(k, 0); setFirst(k, 0) }, want: []int{2}},
	}
	for _, c := range cases {
		for _, v := range c.versions {
			t.Run(fmt.Sprintf("%s/%v", c.name, v), func(t *testing.T) {
				k, r := newTestRing(t, testInfo(v), c.link, DefaultSnaplen, DirectionInOut)
				ps := makePkts(c.link, 3)
				for i := range ps {
					ps[i].data = makePkt(c.link, i, 60+c.link.maclen()).data
					ps[i].vlan, ps[i].tci, ps[i].tpid = c.vlan, 5, 0x8100
				}
				k.rcvAll(t, ps[:2])
				k.retire()
				k.rcvAll(t, ps[2:])
				k.retire()
				c.mutate(k)
				want := c.want
				if v != TPacketV3 {
					want = c.wantV12
				}
				for step, w := range want {
					var ci CaptureInfo
					data, ok, err := r.next(&ci)
					switch {
					case w < 0:
						if !errors.Is(err, ErrCorruptRing) {
							t.Fatalf("step %d: got %v, %v; want an error wrapping ErrCorruptRing", step, ok, err)
						}
						r.release()
						if own := k.owned(); len(own) > 0 && own[0] == 0 {
							t.Fatalf("step %d: frame or block 0 still held after the error and release: %v", step, own)
						}
					case err != nil || !ok:
						t.Fatalf("step %d: got %v, %v; want packet %d", step, ok, err, w)
					default:
						checkData(t, r, data, ci)
						if g, w := (gotPkt{data, ci}), k.want(ps[w], DefaultSnaplen); !g.equal(w) {
							t.Fatalf("step %d: got %v, want %v", step, g, w)
						}
					}
				}
				if _, ok, err := r.next(new(CaptureInfo)); ok || err != nil {
					t.Fatalf("after the last packet: %v, %v", ok, err)
				}
				checkOwned(t, k)
				// The ring works on.
				more := makePkts(c.link, 2)
				k.rcvAll(t, more)
				k.retire()
				checkPkts(t, readAll(t, r), k.wantAll(more, DefaultSnaplen))
			})
		}
	}
}

func TestRingCorruptMessage(t *testing.T) {
	// The error says what is wrong and where.
	k, r := newTestRing(t, testBlocks, linkEthernet, DefaultSnaplen, DirectionInOut)
	k.rcvAll(t, makePkts(linkEthernet, 2))
	k.retire()
	binary.NativeEndian.PutUint32(k.mem[bdFirst:], 9)
	_, _, err := r.next(new(CaptureInfo))
	if err == nil || !strings.Contains(err.Error(), "corrupt ring") || !strings.Contains(err.Error(), "offset 9") {
		t.Fatalf("error %q", err)
	}
}
