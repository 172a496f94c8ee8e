/*
 * gen - benchmark frame generator.
 *
 * Sends COUNT 64-byte Ethernet/IPv4/UDP frames out of interface IFACE as
 * fast as it can, through an AF_PACKET SOCK_RAW socket with
 * PACKET_QDISC_BYPASS, in batches handed to sendmmsg(2). Frame i carries the
 * sequence number i (0..COUNT-1); the layout is documented in frame.h.
 *
 * A frame the kernel refuses (ENOBUFS, EAGAIN: the receiving side's backlog
 * is full) is sent again, so every sequence number leaves exactly once and the
 * "sent" count is exact. The program gives up only if the interface accepts
 * nothing for a long time (see STALL_LIMIT_NS).
 *
 * Usage: gen [-b BATCH] [-d DST_MAC] IFACE COUNT
 *
 * On success it prints one JSON line on stdout:
 *   {"sent":N,"elapsed_ns":T,"pps":R,"retries":K}
 * where retries counts the sendmmsg calls that sent nothing and were retried.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

#define DEFAULT_BATCH 512
#define MAX_BATCH 4096
/* Give up when no frame at all could be sent for this long. */
#define STALL_LIMIT_NS (10LL * 1000 * 1000 * 1000)

static void usage(void)
{
	fprintf(stderr, "usage: gen [-b BATCH] [-d DST_MAC] IFACE COUNT\n"
			"  -b BATCH    frames per sendmmsg call (1..%d, default %d)\n"
			"  -d DST_MAC  destination MAC (default ff:ff:ff:ff:ff:ff)\n",
		MAX_BATCH, DEFAULT_BATCH);
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* build_template writes the constant part of a benchmark frame (everything
 * but the sequence number) into f. */
static void build_template(uint8_t *f, const uint8_t src[6], const uint8_t dst[6])
{
	uint8_t *ip = f + BENCH_ETH_HLEN;
	uint8_t *udp = ip + BENCH_IP_HLEN;

	memset(f, 0, BENCH_FRAME_LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put_be16(f + 12, ETHERTYPE_IP);

	ip[0] = 0x45; /* version 4, IHL 5 */
	put_be16(ip + 2, BENCH_FRAME_LEN - BENCH_ETH_HLEN);
	put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;               /* TTL */
	ip[9] = 17;               /* UDP */
	memcpy(ip + 12, (const uint8_t[]){198, 18, 0, 1}, 4);
	memcpy(ip + 16, (const uint8_t[]){198, 18, 0, 2}, 4);
	put_be16(ip + 10, ip_checksum(ip, BENCH_IP_HLEN));

	put_be16(udp, BENCH_UDP_SRC_PORT);
	put_be16(udp + 2, BENCH_UDP_DST_PORT);
	put_be16(udp + 4, BENCH_FRAME_LEN - BENCH_ETH_HLEN - BENCH_IP_HLEN);
}

int main(int argc, char **argv)
{
	uint8_t dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	unsigned long batch = DEFAULT_BATCH;
	int opt;

	while ((opt = getopt(argc, argv, "b:d:h")) != -1) {
		char *end;

		switch (opt) {
		case 'b':
			errno = 0;
			batch = strtoul(optarg, &end, 10);
			if (errno || *end || batch < 1 || batch > MAX_BATCH) {
				fprintf(stderr, "gen: invalid batch size %s\n", optarg);
				return 2;
			}
			break;
		case 'd':
			if (parse_mac(optarg, dst) < 0) {
				fprintf(stderr, "gen: invalid MAC address %s\n", optarg);
				return 2;
			}
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();

	const char *ifname = argv[optind];
	char *end;
	errno = 0;
	unsigned long long count = strtoull(argv[optind + 1], &end, 10);
	if (errno || *end || argv[optind + 1][0] == '-' || count == 0) {
		fprintf(stderr, "gen: invalid frame count %s\n", argv[optind + 1]);
		return 2;
	}

	unsigned int ifindex = if_nametoindex(ifname);
	if (ifindex == 0) {
		fprintf(stderr, "gen: interface %s: %s\n", ifname, strerror(errno));
		return 1;
	}

	/* Protocol 0: the socket only sends, it never receives a frame. */
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "gen: socket(AF_PACKET): %s\n", strerror(errno));
		return 1;
	}

	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "gen: SIOCGIFHWADDR %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	uint8_t src[6];
	memcpy(src, ifr.ifr_hwaddr.sa_data, 6);

	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)ifindex;
	sll.sll_protocol = 0;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "gen: bind %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	int one = 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		fprintf(stderr, "gen: PACKET_QDISC_BYPASS: %s\n", strerror(errno));
		return 1;
	}

	uint8_t *frames = calloc(batch, BENCH_FRAME_LEN);
	struct iovec *iov = calloc(batch, sizeof(*iov));
	struct mmsghdr *msgs = calloc(batch, sizeof(*msgs));
	if (!frames || !iov || !msgs) {
		fprintf(stderr, "gen: out of memory\n");
		return 1;
	}
	build_template(frames, src, dst);
	for (unsigned long i = 0; i < batch; i++) {
		uint8_t *f = frames + i * BENCH_FRAME_LEN;

		if (i > 0)
			memcpy(f, frames, BENCH_FRAME_LEN);
		iov[i].iov_base = f;
		iov[i].iov_len = BENCH_FRAME_LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	uint64_t sent = 0, retries = 0;
	uint64_t stalled = 0;   /* consecutive calls that sent nothing */
	int64_t stall_start = 0; /* when the current stall began */
	int64_t start = now_ns();

	while (sent < count) {
		unsigned int n = (unsigned int)(count - sent < batch ? count - sent : batch);
		unsigned int off = 0;

		for (unsigned int i = 0; i < n; i++)
			put_be64(frames + (size_t)i * BENCH_FRAME_LEN + BENCH_SEQ_OFFSET, sent + i);
		while (off < n) {
			int r = sendmmsg(fd, msgs + off, n - off, 0);

			if (r > 0) {
				off += (unsigned int)r;
				stalled = 0;
				continue;
			}
			if (r < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "gen: sendmmsg on %s after %" PRIu64 " frames: %s\n",
					ifname, sent + off, strerror(errno));
				return 1;
			}
			/* Nothing went out: let the receive side catch up, then retry
			 * the same frames. */
			retries++;
			if (stalled++ == 0) {
				stall_start = now_ns();
			} else if ((stalled & 63) == 0) {
				if (now_ns() - stall_start > STALL_LIMIT_NS) {
					fprintf(stderr,
						"gen: %s accepted no frame for %lld s after %" PRIu64
						" frames\n",
						ifname, STALL_LIMIT_NS / 1000000000, sent + off);
					return 1;
				}
				sched_yield();
			}
		}
		sent += n;
	}
	int64_t elapsed = now_ns() - start;

	printf("{\"sent\":%" PRIu64 ",\"elapsed_ns\":%lld,\"pps\":%.0f,\"retries\":%" PRIu64 "}\n",
	       sent, (long long)elapsed, elapsed > 0 ? (double)sent * 1e9 / (double)elapsed : 0.0,
	       retries);
	free(msgs);
	free(iov);
	free(frames);
	close(fd);
	return 0;
}
