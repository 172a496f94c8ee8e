/*
 * counter.h - the per-packet bookkeeping of the libpcap capturer (cap.c)
 * and savefile reader (offline.c): each benchmark frame's sequence number
 * is read and checked.
 */
#ifndef BENCH_COUNTER_H
#define BENCH_COUNTER_H

#include <pcap/pcap.h>
#include <stdint.h>

#include "frame.h"

/* Per-packet bookkeeping, touched only by the thread that reads. */
struct counter {
	uint64_t last_seq; /* count - 1 */
	uint64_t captured; /* benchmark frames */
	uint64_t other;    /* any other packet */
	uint64_t out_of_order;
	uint64_t prev; /* sequence number of the previous benchmark frame */
	int have_prev;
	int done;
};

/* on_packet is the pcap_handler: user is a struct counter. */
static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct counter *c = (struct counter *)user;
	uint64_t seq;

	if (!bench_frame_seq(bytes, h->caplen, &seq)) {
		c->other++;
		return;
	}
	c->captured++;
	if (c->have_prev && seq <= c->prev)
		c->out_of_order++;
	c->prev = seq;
	c->have_prev = 1;
	if (seq == c->last_seq)
		c->done = 1;
}

#endif
