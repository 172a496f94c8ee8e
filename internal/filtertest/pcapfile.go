package filtertest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	ibpf "github.com/purecap/pcap/internal/bpf"
)

// Packet is one packet a filter is run on.
type Packet struct {
	// Name says where the packet comes from ("en10mb.pcap#12") or what it
	// is ("ipv4-tcp-syn/cut34"), for failure messages.
	Name string
	// Data holds the captured bytes.
	Data []byte
	// WireLen is the length of the packet on the wire, at least len(Data).
	WireLen int
	// Aux, when not nil, answers the Linux ancillary loads; nil gives
	// libpcap's user-space behaviour, where they reject the packet (see
	// RunPacket).
	Aux *ibpf.Ancillary
}

// Savefile magic numbers, as read in the file's own byte order.
const (
	magicMicro = 0xa1b2c3d4
	magicNano  = 0xa1b23c4d
)

// maxCaplen bounds the length of one record, so that a corrupt file fails
// instead of allocating gigabytes.
const maxCaplen = 1 << 24

// ReadPcapFile reads a pcap savefile; see ReadPcap.
func ReadPcapFile(path string) (linkType uint32, pkts []Packet, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	linkType, pkts, err = ReadPcap(bufio.NewReader(f))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	return linkType, pkts, nil
}

// ReadPcap reads a pcap savefile (not pcapng) in either byte order, with
// microsecond or nanosecond timestamps. It returns the file's link type
// (a LINKTYPE_ value) and its packets, with the captured bytes and the
// length on the wire; timestamps are dropped.
func ReadPcap(r io.Reader) (linkType uint32, pkts []Packet, err error) {
	var hdr [24]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, fmt.Errorf("reading file header: %w", err)
	}
	var order binary.ByteOrder
	switch m := binary.LittleEndian.Uint32(hdr[:4]); m {
	case magicMicro, magicNano:
		order = binary.LittleEndian
	default:
		switch binary.BigEndian.Uint32(hdr[:4]) {
		case magicMicro, magicNano:
			order = binary.BigEndian
		default:
			return 0, nil, fmt.Errorf("not a pcap savefile (magic %#08x)", m)
		}
	}
	// The upper bits of the link type field carry FCS information.
	linkType = order.Uint32(hdr[20:24]) & 0xffff
	var rec [16]byte
	for i := 0; ; i++ {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if err == io.EOF {
				return linkType, pkts, nil
			}
			return 0, nil, fmt.Errorf("packet %d: reading record header: %w", i, err)
		}
		caplen, wirelen := order.Uint32(rec[8:12]), order.Uint32(rec[12:16])
		if caplen > maxCaplen {
			return 0, nil, fmt.Errorf("packet %d: captured length %d is too large", i, caplen)
		}
		data := make([]byte, caplen)
		if _, err := io.ReadFull(r, data); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, fmt.Errorf("packet %d: %w", i, err)
		}
		if wirelen < caplen {
			wirelen = caplen
		}
		pkts = append(pkts, Packet{Data: data, WireLen: int(wirelen)})
	}
}

// WritePcap writes packets as a little-endian, microsecond pcap savefile
// with a snapshot length of 262144. Packet i gets the timestamp i µs, so
// that a packet copied by another tool can be traced back to its index.
// Aux and Name are not stored.
func WritePcap(w io.Writer, linkType uint32, pkts []Packet) error {
	bw := bufio.NewWriter(w)
	var hdr [24]byte
	le := binary.LittleEndian
	le.PutUint32(hdr[0:], magicMicro)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 262144)
	le.PutUint32(hdr[20:], linkType)
	bw.Write(hdr[:])
	for i, p := range pkts {
		var rec [16]byte
		le.PutUint32(rec[0:], uint32(i/1e6))
		le.PutUint32(rec[4:], uint32(i%1e6))
		le.PutUint32(rec[8:], uint32(len(p.Data)))
		le.PutUint32(rec[12:], uint32(max(p.WireLen, len(p.Data))))
		bw.Write(rec[:])
		bw.Write(p.Data)
	}
	return bw.Flush()
}

// packetIndex returns the index WritePcap encoded in the timestamp of the
// record header rec (16 bytes, little endian).
func packetIndex(rec []byte) int {
	le := binary.LittleEndian
	return int(le.Uint32(rec[0:]))*1e6 + int(le.Uint32(rec[4:]))
}

// ReadPcapIndexes reads a savefile written by WritePcap, or filtered from
// one by another tool, and returns the indexes of its packets.
func ReadPcapIndexes(r io.Reader) ([]int, error) {
	var hdr [24]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("reading file header: %w", err)
	}
	if m := binary.LittleEndian.Uint32(hdr[:4]); m != magicMicro {
		return nil, fmt.Errorf("not a little-endian microsecond savefile (magic %#08x)", m)
	}
	var idx []int
	var rec [16]byte
	for {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if err == io.EOF {
				return idx, nil
			}
			return nil, err
		}
		idx = append(idx, packetIndex(rec[:]))
		if _, err := io.CopyN(io.Discard, r, int64(binary.LittleEndian.Uint32(rec[8:]))); err != nil {
			return nil, err
		}
	}
}
