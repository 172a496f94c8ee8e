//go:build linux

package pcap

import "github.com/purecap/pcap/internal/afpacket"

// ringRequest is what the ring must hold, from which its geometry follows.
type ringRequest struct {
	version    TPacketVersion
	cooked     bool
	reserve    int
	snaplen    int // most bytes of a packet the ring must hold
	bufferSize int
	blockSize  int // V3: asked-for block size, 0 for the default
	pageSize   int
}

// geometry computes the ring much as libpcap does. V1/V2: a frame holds the
// header area the kernel lays out before the packet plus snaplen bytes;
// blocks are pages doubled until one holds a frame; the frame count covers
// bufferSize. V3: blocks of DefaultBlockSize (or blockSize) bytes, as many
// as cover bufferSize, at least two so the kernel can fill one while the
// reader has the other.
func (q ringRequest) geometry() RingInfo {
	info := RingInfo{Version: q.version}
	var frameSize int
	if q.version == TPacketV3 {
		frameSize = q.blockSize
		if frameSize <= 0 {
			frameSize = DefaultBlockSize
		}
	} else {
		// The kernel puts the packet at macoff = netoff - maclen, with
		// netoff = TPACKET_ALIGN(hdrlen + max(maclen, 16)) + reserve (for a
		// cooked capture, TPACKET_ALIGN(hdrlen) + 16 + reserve and maclen
		// 0). macoff is largest, TPACKET_ALIGN(hdrlen) + 16 + reserve, for
		// a link header of 0 bytes. libpcap sizes frames for a 256-byte
		// header instead, which leaves up to 16 bytes too few for shorter
		// ones (Ethernet, raw IP): the kernel then cuts packets below the
		// snapshot length.
		macoff := afpacket.TPacketAlign(afpacket.HdrLen(kernelVersion(q.version))) + 16 + q.reserve
		frameSize = afpacket.TPacketAlign(macoff + q.snaplen)
	}
	blockSize := q.pageSize
	for blockSize < frameSize {
		blockSize <<= 1
	}
	if q.version == TPacketV3 {
		frameSize = blockSize
	}
	info.BlockSize = blockSize
	info.FrameSize = frameSize
	info.FrameNr = (q.bufferSize + frameSize - 1) / frameSize
	if q.version == TPacketV3 && info.FrameNr < 2 {
		info.FrameNr = 2
	}
	return fitBlocks(info)
}

// fitBlocks makes the frame count a whole number of blocks.
func fitBlocks(info RingInfo) RingInfo {
	fpb := info.BlockSize / info.FrameSize
	info.BlockNr = max(info.FrameNr/fpb, 1)
	info.FrameNr = info.BlockNr * fpb
	return info
}

// shrinkRing is the ring 5% smaller, for a retry after ENOMEM: fewer
// frames, whole blocks, at least one block.
func shrinkRing(info RingInfo) RingInfo {
	if info.FrameNr < 20 {
		info.FrameNr--
	} else {
		info.FrameNr -= info.FrameNr / 20
	}
	return fitBlocks(info)
}
