/*
 * frame.h - layout of the benchmark frames, shared by the generator
 * (gen/gen.c) and the libpcap capturer (libpcap/cap.c). The Go capturers
 * mirror these constants in internal/capture/frame.go; keep them in sync.
 *
 * Every frame is BENCH_FRAME_LEN (64) bytes long, counted without the FCS
 * (a veth pair carries no FCS):
 *
 *   offset  size  field
 *        0     6  Ethernet destination (peer MAC or broadcast)
 *        6     6  Ethernet source (MAC of the sending interface)
 *       12     2  EtherType 0x0800 (IPv4)
 *       14    20  IPv4 header: IHL 5, total length 50, DF, TTL 64,
 *                 protocol 17 (UDP), 198.18.0.1 -> 198.18.0.2 (RFC 2544
 *                 benchmarking range), valid header checksum
 *       34     8  UDP header: ports BENCH_UDP_SRC_PORT -> BENCH_UDP_DST_PORT,
 *                 length 30, checksum 0 (none, allowed for IPv4)
 *       42     8  sequence number, unsigned 64-bit big-endian, 0..N-1
 *       50    14  zero padding
 */
#ifndef BENCH_FRAME_H
#define BENCH_FRAME_H

#include <stdint.h>
#include <stddef.h>

#define BENCH_FRAME_LEN 64
#define BENCH_ETH_HLEN 14
#define BENCH_IP_HLEN 20
#define BENCH_UDP_HLEN 8
#define BENCH_SEQ_OFFSET (BENCH_ETH_HLEN + BENCH_IP_HLEN + BENCH_UDP_HLEN) /* 42 */
#define BENCH_UDP_SRC_PORT 40000
#define BENCH_UDP_DST_PORT 40001

/* bench_frame_seq extracts the sequence number of a captured frame. It
 * returns 1 and stores the number in *seq if the frame is a benchmark frame,
 * 0 otherwise (any other traffic on the interface). */
static inline int bench_frame_seq(const uint8_t *p, size_t caplen, uint64_t *seq)
{
	if (caplen < BENCH_SEQ_OFFSET + 8)
		return 0;
	if (p[12] != 0x08 || p[13] != 0x00 || p[14] != 0x45 || p[23] != 17)
		return 0;
	if (p[36] != (BENCH_UDP_DST_PORT >> 8) || p[37] != (BENCH_UDP_DST_PORT & 0xff))
		return 0;
	const uint8_t *s = p + BENCH_SEQ_OFFSET;
	*seq = (uint64_t)s[0] << 56 | (uint64_t)s[1] << 48 | (uint64_t)s[2] << 40 |
	       (uint64_t)s[3] << 32 | (uint64_t)s[4] << 24 | (uint64_t)s[5] << 16 |
	       (uint64_t)s[6] << 8 | (uint64_t)s[7];
	return 1;
}

#endif
