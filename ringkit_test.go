//go:build linux

package pcap

// A synthetic kernel for the ring walkers: fakeKernel lays packets out in a
// []byte exactly as net/packet/af_packet.c does (tpacket_rcv, and for
// TPACKET_V3 prb_open_block, prb_fill_curr_block, prb_close_block and the
// block retire timer), so that the walkers can be tested without a socket.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tpAlign is the kernel's TPACKET_ALIGN.
func tpAlign(x int) int { return (x + unix.TPACKET_ALIGNMENT - 1) &^ (unix.TPACKET_ALIGNMENT - 1) }

// v3Align is TOTAL_PKT_LEN_INCL_ALIGN: V3 packets are 8-byte aligned.
func v3Align(x int) int { return (x + 7) &^ 7 }

// blockDescLen is BLK_PLUS_PRIV(0): where a V3 block's first packet goes.
const blockDescLen = 48

// hdrSize is sizeof the frame (V1/V2) or packet (V3) header.
func hdrSize(v TPacketVersion) int {
	switch v {
	case TPacketV1:
		return unix.SizeofTpacketHdr
	case TPacketV2:
		return unix.SizeofTpacket2Hdr
	}
	return unix.SizeofTpacket3Hdr
}

// sllOffset is where the kernel puts the sockaddr_ll after the header.
func sllOffset(v TPacketVersion) int { return tpAlign(hdrSize(v)) }

// sllEnd is the end of the sockaddr_ll: no data can start before it.
func sllEnd(v TPacketVersion) int { return sllOffset(v) + unix.SizeofSockaddrLinklayer }

// linkKind is what a test ring holds, and how its socket was opened.
type linkKind int

const (
	linkEthernet linkKind = iota // SOCK_RAW on Ethernet: DLT_EN10MB
	linkSLL                      // SOCK_DGRAM: DLT_LINUX_SLL
	linkSLL2                     // SOCK_DGRAM: DLT_LINUX_SLL2
	linkRaw                      // SOCK_RAW on a device without a link header
)

var allLinks = []linkKind{linkEthernet, linkSLL, linkSLL2, linkRaw}

func (l linkKind) String() string {
	return [...]string{"EN10MB", "SLL", "SLL2", "RAW"}[l]
}

func (l linkKind) cooked() bool { return l == linkSLL || l == linkSLL2 }

// maclen is skb_network_offset on a raw socket: the link header's length.
func (l linkKind) maclen() int {
	if l == linkEthernet {
		return 14
	}
	return 0
}

// reserve is the PACKET_RESERVE Open asks for.
func (l linkKind) reserve() int {
	if l.cooked() {
		return 8
	}
	return 4
}

// decoder is the decoder Open builds for the link.
func (l linkKind) decoder(snaplen int, dir Direction) decoder {
	d := decoder{snaplen: snaplen, direction: dir, ethernet: l == linkEthernet}
	switch l {
	case linkSLL:
		d.cooked = sllHdrLen
	case linkSLL2:
		d.cooked = sll2HdrLen
	}
	return d
}

// testPkt is a packet as the kernel sees it in tpacket_rcv.
type testPkt struct {
	data    []byte // from the link header (raw socket) or the network header (cooked)
	ts      time.Time
	pkttype PacketType
	hatype  uint16 // dev->type; 0: ARPHRD_ETHER
	ifindex int32
	proto   uint16 // skb->protocol, host order
	addr    []byte // dev_parse_header: the source link address
	vlan    bool   // the driver stripped a tag: tci and tpid
	tci     uint16
	tpid    uint16
	rxhash  uint32
}

func (p testPkt) arphrd() uint16 {
	if p.hatype != 0 {
		return p.hatype
	}
	return unix.ARPHRD_ETHER
}

// makePkt builds packet i of a test run: its bytes name i, so that order and
// content can both be checked.
func makePkt(link linkKind, i, size int) testPkt {
	data := make([]byte, size)
	for j := range data {
		data[j] = byte(i*7 + j*13 + 1)
	}
	if link == linkEthernet && size >= 14 {
		copy(data, []byte{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00})
	}
	if off := link.maclen(); size >= off+4 {
		binary.BigEndian.PutUint32(data[off:], uint32(i))
	}
	return testPkt{
		data:    data,
		ts:      time.Unix(1700000000+int64(i), int64(i)*1001+7),
		ifindex: 3,
		proto:   unix.ETH_P_IP,
		addr:    []byte{0x02, 0, 0, 0, 0, 0x01},
	}
}

// pktSizes are varied packet lengths, from runts to full Ethernet frames.
var pktSizes = []int{60, 1514, 64, 1, 200, 999, 15, 1500, 14, 590}

// sizedPkts makes packets from, from+1, ..., n of them, of size bytes.
func sizedPkts(link linkKind, from, n, size int) []testPkt {
	ps := make([]testPkt, n)
	for i := range ps {
		ps[i] = makePkt(link, from+i, size)
	}
	return ps
}

func makePkts(link linkKind, n int) []testPkt {
	ps := make([]testPkt, n)
	for i := range ps {
		ps[i] = makePkt(link, i, pktSizes[i%len(pktSizes)])
	}
	return ps
}

// alignedBytes returns n zero bytes aligned for the ring's atomics, as the
// kernel's mapping is.
func alignedBytes(n int) []byte {
	if n == 0 {
		return nil
	}
	w := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), n)
}

// guardedBytes returns n zero bytes (n a multiple of 8) that end where an
// inaccessible page begins, with another before them: a walker reading
// past the ring faults, where over Go memory it would read on unnoticed.
// The walkers read headers by offset, trusting the checks that keep those
// offsets inside their block.
func guardedBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	ps := os.Getpagesize()
	size := (n + ps - 1) / ps * ps
	m, err := unix.Mmap(-1, 0, size+2*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		tb.Fatalf("mmap: %v", err)
	}
	tb.Cleanup(func() { unix.Munmap(m) })
	if err := unix.Mprotect(m[:ps], unix.PROT_NONE); err != nil {
		tb.Fatalf("mprotect: %v", err)
	}
	if err := unix.Mprotect(m[ps+size:], unix.PROT_NONE); err != nil {
		tb.Fatalf("mprotect: %v", err)
	}
	return m[ps+size-n : ps+size : ps+size]
}

func framesInfo(v TPacketVersion, blockSize, frameSize, blockNr int) RingInfo {
	return RingInfo{Version: v, BlockSize: blockSize, BlockNr: blockNr, FrameSize: frameSize,
		FrameNr: blockNr * (blockSize / frameSize)}
}

func blocksInfo(blockSize, blockNr int) RingInfo {
	return RingInfo{Version: TPacketV3, BlockSize: blockSize, BlockNr: blockNr, FrameSize: blockSize, FrameNr: blockNr}
}

// Test geometries: V1/V2 frames filling their blocks, or leaving a gap at the
// end of each block; V3 blocks that hold a handful of packets each.
func testFrames(v TPacketVersion) RingInfo    { return framesInfo(v, 8192, 2048, 2) }
func testGapFrames(v TPacketVersion) RingInfo { return framesInfo(v, 4096, 1360, 3) }

var testBlocks = blocksInfo(8192, 4)

// testInfo is a geometry for the version.
func testInfo(v TPacketVersion) RingInfo {
	if v == TPacketV3 {
		return testBlocks
	}
	return testFrames(v)
}

// fakeKernel fills a ring as the kernel does.
type fakeKernel struct {
	mem         []byte
	info        RingInfo
	link        linkKind
	filter      int  // what the socket filter returns: bytes to copy, 0 for all
	noTPIDValid bool // VLAN tags as kernels before 3.14 gave them: no TPID
	fpb         int

	head  int   // V1/V2: the frame to fill next
	slots []int // offset in mem of the header of each packet written
	drops int

	// V3: the kernel's tpacket_kbdq_core.
	active  int    // kactive_blk_num
	nextSeq uint64 // knxt_seq_num
	nxt     int    // nxt_offset, from the active block's start
	prev    int    // the last packet written, from the active block's start
	frozen  bool
}

func newFakeKernel(info RingInfo, link linkKind) *fakeKernel {
	return newFakeKernelIn(alignedBytes(info.Size()), info, link)
}

// newFakeKernelIn is newFakeKernel with the ring in mem.
func newFakeKernelIn(mem []byte, info RingInfo, link linkKind) *fakeKernel {
	k := &fakeKernel{mem: mem, info: info, link: link,
		fpb: info.BlockSize / info.FrameSize, nextSeq: 1}
	if info.Version == TPacketV3 {
		k.openBlock() // init_prb_bdqc
	}
	return k
}

// newTestRing returns a kernel and a walker over its ring.
// Tests get a ring between inaccessible pages; benchmarks keep Go memory,
// in which their figures were measured.
func newTestRing(tb testing.TB, info RingInfo, link linkKind, snaplen int, dir Direction) (*fakeKernel, *ring) {
	tb.Helper()
	var k *fakeKernel
	if _, bench := tb.(*testing.B); bench {
		k = newFakeKernel(info, link)
	} else {
		k = newFakeKernelIn(guardedBytes(tb, info.Size()), info, link)
	}
	r, err := newRing(k.mem, info, link.decoder(snaplen, dir))
	if err != nil {
		tb.Fatal(err)
	}
	return k, r
}

// offsets are tpacket_rcv's macoff and netoff.
func (k *fakeKernel) offsets() (macoff, netoff int) {
	hdrlen := sllEnd(k.info.Version) // po->tp_hdrlen
	if k.link.cooked() {
		macoff = tpAlign(hdrlen) + 16 + k.link.reserve()
		return macoff, macoff
	}
	maclen := k.link.maclen()
	netoff = tpAlign(hdrlen+max(maclen, 16)) + k.link.reserve()
	return netoff - maclen, netoff
}

// copied is how many bytes of p the kernel copies into the ring.
func (k *fakeKernel) copied(p testPkt) int {
	n := len(p.data)
	if k.filter > 0 {
		n = min(n, k.filter)
	}
	macoff, _ := k.offsets()
	room := k.info.FrameSize - macoff
	if k.info.Version == TPacketV3 {
		room = k.info.BlockSize - blockDescLen - macoff // max_frame_len
	}
	return max(min(n, room), 0)
}

func (k *fakeKernel) frameOff(i int) int {
	return i/k.fpb*k.info.BlockSize + i%k.fpb*k.info.FrameSize
}

func (k *fakeKernel) frameStatus(i int) uint32 {
	off := k.frameOff(i)
	if k.info.Version == TPacketV1 {
		return uint32(atomic.LoadUintptr((*uintptr)(unsafe.Pointer(&k.mem[off]))))
	}
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&k.mem[off])))
}

func (k *fakeKernel) setFrameStatus(i int, status uint32) {
	off := k.frameOff(i)
	if k.info.Version == TPacketV1 {
		atomic.StoreUintptr((*uintptr)(unsafe.Pointer(&k.mem[off])), uintptr(status))
		return
	}
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&k.mem[off])), status)
}

// desc is the tpacket_hdr_v1 of block b.
func (k *fakeKernel) desc(b int) *unix.TpacketHdrV1 {
	return (*unix.TpacketHdrV1)(unsafe.Pointer(&k.mem[b*k.info.BlockSize+8]))
}

func (k *fakeKernel) blockStatus(b int) uint32 { return atomic.LoadUint32(&k.desc(b).Block_status) }

func (k *fakeKernel) setBlockStatus(b int, status uint32) {
	atomic.StoreUint32(&k.desc(b).Block_status, status)
}

// owned lists the frames (V1/V2) or blocks (V3) user space holds.
func (k *fakeKernel) owned() []int {
	var own []int
	if k.info.Version == TPacketV3 {
		for b := 0; b < k.info.BlockNr; b++ {
			if k.blockStatus(b)&unix.TP_STATUS_USER != 0 {
				own = append(own, b)
			}
		}
		return own
	}
	for i := 0; i < k.info.FrameNr; i++ {
		if k.frameStatus(i)&unix.TP_STATUS_USER != 0 {
			own = append(own, i)
		}
	}
	return own
}

func (k *fakeKernel) hdr1(off int) *unix.TpacketHdr {
	return (*unix.TpacketHdr)(unsafe.Pointer(&k.mem[off]))
}
func (k *fakeKernel) hdr2(off int) *unix.Tpacket2Hdr {
	return (*unix.Tpacket2Hdr)(unsafe.Pointer(&k.mem[off]))
}
func (k *fakeKernel) hdr3(off int) *unix.Tpacket3Hdr {
	return (*unix.Tpacket3Hdr)(unsafe.Pointer(&k.mem[off]))
}
func (k *fakeKernel) sll(off int) *unix.RawSockaddrLinklayer {
	return (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&k.mem[off+sllOffset(k.info.Version)]))
}

// fields points at the tp_mac, tp_snaplen and tp_len of packet i.
func (k *fakeKernel) fields(i int) (mac *uint16, snaplen, wirelen *uint32) {
	off := k.slots[i]
	switch k.info.Version {
	case TPacketV1:
		h := k.hdr1(off)
		return &h.Mac, &h.Snaplen, &h.Len
	case TPacketV2:
		h := k.hdr2(off)
		return &h.Mac, &h.Snaplen, &h.Len
	}
	h := k.hdr3(off)
	return &h.Mac, &h.Snaplen, &h.Len
}

// moveData moves packet i's data to offset mac of its frame.
func (k *fakeKernel) moveData(i, mac int) {
	m, snaplen, _ := k.fields(i)
	off := k.slots[i]
	copy(k.mem[off+mac:off+mac+int(*snaplen)], k.mem[off+int(*m):])
	*m = uint16(mac)
}

// rcv puts p into the ring as tpacket_rcv does. It reports false when the
// ring has no room and the kernel drops the packet.
func (k *fakeKernel) rcv(p testPkt) bool {
	v := k.info.Version
	snaplen := k.copied(p)
	macoff, netoff := k.offsets()
	var off int
	if v == TPacketV3 {
		if off = k.v3Slot(macoff + snaplen); off < 0 {
			k.drops++
			return false
		}
	} else {
		if k.frameStatus(k.head) != unix.TP_STATUS_KERNEL {
			k.drops++
			return false
		}
		off = k.frameOff(k.head)
		k.head = (k.head + 1) % k.info.FrameNr
	}
	copy(k.mem[off+macoff:], p.data[:snaplen])

	status := uint32(unix.TP_STATUS_USER)
	tpid := p.tpid
	if p.vlan && v != TPacketV1 {
		status |= unix.TP_STATUS_VLAN_VALID
		if k.noTPIDValid {
			tpid = 0
		} else {
			status |= unix.TP_STATUS_VLAN_TPID_VALID
		}
	}
	sec, nsec := uint32(p.ts.Unix()), uint32(p.ts.Nanosecond())
	switch v {
	case TPacketV1:
		h := k.hdr1(off)
		h.Len, h.Snaplen, h.Mac, h.Net = uint32(len(p.data)), uint32(snaplen), uint16(macoff), uint16(netoff)
		h.Sec, h.Usec = sec, nsec/1000
	case TPacketV2:
		h := k.hdr2(off)
		h.Len, h.Snaplen, h.Mac, h.Net = uint32(len(p.data)), uint32(snaplen), uint16(macoff), uint16(netoff)
		h.Sec, h.Nsec = sec, nsec
		h.Vlan_tci, h.Vlan_tpid = 0, 0
		if p.vlan {
			h.Vlan_tci, h.Vlan_tpid = p.tci, tpid
		}
	case TPacketV3:
		h := k.hdr3(off)
		h.Hv1 = unix.TpacketHdrVariant1{Rxhash: p.rxhash} // prb_run_all_ft_ops
		if p.vlan {
			h.Hv1.Vlan_tci, h.Hv1.Vlan_tpid = uint32(p.tci), tpid
		}
		h.Status = status
		h.Len, h.Snaplen, h.Mac, h.Net = uint32(len(p.data)), uint32(snaplen), uint16(macoff), uint16(netoff)
		h.Sec, h.Nsec = sec, nsec
	}
	// dev_parse_header writes halen bytes of the address: the rest is what
	// an earlier packet left there.
	sll := k.sll(off)
	sll.Family, sll.Protocol, sll.Ifindex = unix.AF_PACKET, htons(p.proto), p.ifindex
	sll.Hatype, sll.Pkttype, sll.Halen = p.arphrd(), uint8(p.pkttype), uint8(len(p.addr))
	copy(sll.Addr[:], p.addr)
	k.slots = append(k.slots, off)
	if v != TPacketV3 {
		k.setFrameStatus((k.head+k.info.FrameNr-1)%k.info.FrameNr, status)
	}
	return true
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

// rcvAll puts every packet into the ring, failing if one is dropped.
func (k *fakeKernel) rcvAll(tb testing.TB, ps []testPkt) {
	tb.Helper()
	for i, p := range ps {
		if !k.rcv(p) {
			tb.Fatalf("kernel dropped packet %d: ring full", i)
		}
	}
}

// v3Slot is __packet_lookup_frame_in_block: room for a packet of length
// bytes in the active block, or the next one; -1 when user space holds it.
func (k *fakeKernel) v3Slot(length int) int {
	if k.frozen {
		if k.blockStatus(k.active)&unix.TP_STATUS_USER != 0 {
			return -1
		}
		k.openBlock()
	}
	if k.nxt+v3Align(length) >= k.info.BlockSize {
		k.closeBlock(0)
		if !k.dispatchNext() {
			return -1
		}
	}
	base := k.active * k.info.BlockSize
	off := k.nxt
	k.hdr3(base + off).Next_offset = uint32(v3Align(length)) // prb_fill_curr_block
	k.prev = off
	k.nxt += v3Align(length)
	d := k.desc(k.active)
	d.Blk_len += uint32(v3Align(length))
	d.Num_pkts++
	return base + off
}

// openBlock is prb_open_block on the active block.
func (k *fakeKernel) openBlock() {
	base := k.active * k.info.BlockSize
	d := k.desc(k.active)
	d.Seq_num = k.nextSeq
	k.nextSeq++
	d.Num_pkts = 0
	d.Blk_len = blockDescLen
	d.Ts_first_pkt = unix.TpacketBDTS{Sec: 1700000000}
	d.Offset_to_first_pkt = blockDescLen
	binary.NativeEndian.PutUint32(k.mem[base+4:], blockDescLen) // offset_to_priv: BLK_HDR_LEN
	binary.NativeEndian.PutUint32(k.mem[base:], unix.TPACKET_V3)
	k.nxt, k.prev = blockDescLen, blockDescLen
	k.frozen = false
}

// closeBlock is prb_close_block: the active block goes to user space.
func (k *fakeKernel) closeBlock(stat uint32) {
	base := k.active * k.info.BlockSize
	d := k.desc(k.active)
	last := k.hdr3(base + k.prev)
	last.Next_offset = 0
	if d.Num_pkts > 0 {
		d.Ts_last_pkt = unix.TpacketBDTS{Sec: last.Sec, Usec: last.Nsec}
	}
	k.setBlockStatus(k.active, unix.TP_STATUS_USER|stat)
	k.active = (k.active + 1) % k.info.BlockNr
}

// dispatchNext is prb_dispatch_next_block: open the next block, or freeze
// the queue when user space still holds it.
func (k *fakeKernel) dispatchNext() bool {
	if k.blockStatus(k.active)&unix.TP_STATUS_USER != 0 {
		k.frozen = true
		return false
	}
	k.openBlock()
	return true
}

// retire fires the V3 block retire timer (prb_retire_rx_blk_timer_expired):
// the block being filled goes to user space if it holds packets. V1/V2 rings
// hand each frame over at once and have no timer.
func (k *fakeKernel) retire() {
	if k.info.Version != TPacketV3 {
		return
	}
	if k.frozen {
		if k.blockStatus(k.active)&unix.TP_STATUS_USER == 0 {
			k.openBlock()
		}
		return
	}
	if k.desc(k.active).Num_pkts == 0 {
		return
	}
	k.closeBlock(unix.TP_STATUS_BLK_TMO)
	k.dispatchNext()
}

// slotLen is the room of packet i's frame, or of its V3 slot (up to the next
// packet, or to the end of its block for the last).
func (k *fakeKernel) slotLen(i int) int {
	off := k.slots[i]
	if k.info.Version != TPacketV3 {
		return k.info.FrameSize
	}
	if next := int(k.hdr3(off).Next_offset); next != 0 {
		return next
	}
	return k.info.BlockSize - off%k.info.BlockSize
}

// want is what the walker must return for p, built from the cooked header
// and VLAN layouts of libpcap and the pcap-linktype documentation.
func (k *fakeKernel) want(p testPkt, snaplen int) gotPkt {
	v, link := k.info.Version, k.link
	data := p.data[:k.copied(p)]
	vlan := p.vlan && v != TPacketV1
	tpid := p.tpid
	if k.noTPIDValid {
		tpid = 0x8100
	}
	be16 := func(b []byte, x uint16) []byte { return binary.BigEndian.AppendUint16(b, x) }
	addr := make([]byte, 8)
	copy(addr, p.addr)
	var out []byte
	switch link {
	case linkEthernet, linkRaw:
		out = data
		if vlan && link == linkEthernet && len(data) >= 12 {
			out = be16(be16(append([]byte(nil), data[:12]...), tpid), p.tci)
			out = append(out, data[12:]...)
		}
	case linkSLL:
		out = be16(be16(be16(nil, uint16(p.pkttype)), p.arphrd()), uint16(len(p.addr)))
		out = append(out, addr...)
		if vlan {
			out = be16(be16(out, tpid), p.tci)
		}
		out = append(be16(out, p.proto), data...)
	case linkSLL2:
		proto := p.proto
		if vlan {
			proto = tpid
		}
		out = binary.BigEndian.AppendUint32(be16(be16(nil, proto), 0), uint32(p.ifindex))
		out = append(be16(out, p.arphrd()), byte(p.pkttype), byte(len(p.addr)))
		out = append(out, addr...)
		if vlan {
			out = be16(be16(out, p.tci), p.proto)
		}
		out = append(out, data...)
	}
	wire := len(p.data) + len(out) - len(data) // with the header or tag put in
	if len(out) > snaplen {
		out = out[:snaplen]
	}
	nsec := int64(p.ts.Nanosecond())
	if v == TPacketV1 {
		nsec -= nsec % 1000
	}
	ci := CaptureInfo{
		Timestamp:      time.Unix(p.ts.Unix(), nsec).UnixNano(),
		CaptureLength:  len(out),
		Length:         wire,
		InterfaceIndex: int(p.ifindex),
	}
	ci.SetPacketType(p.pkttype)
	if vlan {
		ci.SetVLAN(VLANTag{Present: true, TCI: p.tci, TPID: tpid})
	}
	if v == TPacketV3 {
		ci.SetRxHash(p.rxhash)
	}
	return gotPkt{data: out, ci: ci}
}

// gotPkt is a packet the walker returned, copied out of the ring.
type gotPkt struct {
	data []byte
	ci   CaptureInfo
}

func (g gotPkt) String() string {
	return fmt.Sprintf("%d/%d bytes %x... %+v", g.ci.CaptureLength, g.ci.Length, g.data[:min(len(g.data), 24)], g.ci)
}

func (g gotPkt) equal(w gotPkt) bool {
	return g.ci == w.ci && bytes.Equal(g.data, w.data)
}

// wantAll is what the walker must return for ps, in order.
func (k *fakeKernel) wantAll(ps []testPkt, snaplen int) []gotPkt {
	w := make([]gotPkt, len(ps))
	for i, p := range ps {
		w[i] = k.want(p, snaplen)
	}
	return w
}

// nextPkt calls next once, failing on an error, and copies the packet out.
func nextPkt(tb testing.TB, r *ring) (gotPkt, bool) {
	tb.Helper()
	var ci CaptureInfo
	data, ok, err := r.next(&ci)
	if err != nil {
		tb.Fatalf("next: %v", err)
	}
	if !ok {
		return gotPkt{}, false
	}
	checkData(tb, r, data, ci)
	return gotPkt{data: bytes.Clone(data), ci: ci}, true
}

// checkData checks what a user can rely on for every packet: the data lies
// within one frame or block of the ring, appending to it cannot write into
// the ring, and the lengths agree with it and with the snapshot length.
func checkData(tb testing.TB, r *ring, data []byte, ci CaptureInfo) {
	tb.Helper()
	if err := dataProblem(r, data, ci); err != "" {
		tb.Fatal(err)
	}
}

func dataProblem(r *ring, data []byte, ci CaptureInfo) string {
	if len(data) != ci.CaptureLength || ci.CaptureLength > ci.Length || ci.CaptureLength > r.dec.snaplen {
		return fmt.Sprintf("data of %d bytes with CaptureLength %d, Length %d, snaplen %d",
			len(data), ci.CaptureLength, ci.Length, r.dec.snaplen)
	}
	if cap(data) != len(data) {
		return fmt.Sprintf("data of %d bytes has capacity %d: append would write into the ring", len(data), cap(data))
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.mem)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	if len(data) == 0 {
		// Even empty, the data must not point past the ring: the garbage
		// collector could take it for a pointer into another mapping.
		if start < base || start >= base+uintptr(len(r.mem)) {
			return fmt.Sprintf("empty data at %#x, outside the ring [%#x,+%d)", start, base, len(r.mem))
		}
		return ""
	}
	unit := r.info.FrameSize
	if r.info.Version == TPacketV3 {
		unit = r.info.BlockSize
	}
	if start < base || start-base+uintptr(len(data)) > uintptr(len(r.mem)) {
		return fmt.Sprintf("data [%#x,+%d) outside the ring [%#x,+%d)", start, len(data), base, len(r.mem))
	}
	off := int(start - base)
	blk := off / r.info.BlockSize
	inBlk := off % r.info.BlockSize
	if unit != r.info.BlockSize {
		if inBlk/unit >= r.info.BlockSize/unit {
			return fmt.Sprintf("data at ring offset %d lies in the gap at the end of block %d", off, blk)
		}
		inBlk %= unit
	}
	if inBlk+len(data) > unit {
		return fmt.Sprintf("data at ring offset %d, %d bytes, crosses the end of its %d-byte frame or block", off, len(data), unit)
	}
	return ""
}

// readAll calls next until it reports false (failing on an error), then
// release, and returns the packets.
func readAll(tb testing.TB, r *ring) []gotPkt {
	tb.Helper()
	var got []gotPkt
	for {
		g, ok := nextPkt(tb, r)
		if !ok {
			break
		}
		got = append(got, g)
		if len(got) > 1<<16 {
			tb.Fatal("next never reports the ring empty")
		}
	}
	r.release()
	return got
}

// checkPkts compares packets returned with packets expected.
func checkPkts(tb testing.TB, got, want []gotPkt) {
	tb.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			tb.Fatalf("got %d packets, want %d; missing %d: %v", len(got), len(want), i, want[i])
		case i >= len(want):
			tb.Fatalf("got %d packets, want %d; extra %d: %v", len(got), len(want), i, got[i])
		case !got[i].equal(want[i]):
			tb.Fatalf("packet %d:\n got %v\n     % x\nwant %v\n     % x", i, got[i], got[i].data, want[i], want[i].data)
		}
	}
}

// checkOwned checks which frames or blocks user space holds.
func checkOwned(tb testing.TB, k *fakeKernel, want ...int) {
	tb.Helper()
	if got := k.owned(); !slices.Equal(got, want) {
		tb.Fatalf("user space holds frames/blocks %v, want %v", got, want)
	}
}

// next returns the next packet, or false when the kernel has not filled one
// yet; see walk.
func (r *ring) next(ci *CaptureInfo) (data []byte, ok bool, err error) {
	n, err := r.walk(1, nil, func(d []byte, c CaptureInfo) {
		data, *ci = d, c
	})
	return data, n == 1, err
}
