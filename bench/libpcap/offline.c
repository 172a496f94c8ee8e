/*
 * offline - libpcap savefile reading benchmark.
 *
 *   offline -f FILE -n COUNT [-mode NAME]
 *
 * Opens FILE (pcap or pcapng) with pcap_open_offline and reads it with
 * pcap_dispatch(p, -1, ...) until the end of the file, handing each packet
 * to the same per-packet bookkeeping as the live capturer (the sequence
 * number of each benchmark frame is read and checked). It then prints one
 * JSON line with the fields of the live capturers (see internal/capture):
 * CPU time (getrusage) and wall time from before pcap_open_offline to the
 * end of the last read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "counter.h"

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "offline: %s%s\n", msg, arg ? arg : "");
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* usage returns the CPU time used so far (user + system), its system part
 * and the number of minor page faults. */
static void usage(int64_t *cpu, int64_t *sys, long *faults)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		die("getrusage: ", strerror(errno));
	*sys = (int64_t)ru.ru_stime.tv_sec * 1000000000 + (int64_t)ru.ru_stime.tv_usec * 1000;
	*cpu = (int64_t)ru.ru_utime.tv_sec * 1000000000 + (int64_t)ru.ru_utime.tv_usec * 1000 + *sys;
	*faults = ru.ru_minflt;
}

int main(int argc, char **argv)
{
	const char *file = NULL, *mode = "offline";
	uint64_t count = 0;
	char errbuf[PCAP_ERRBUF_SIZE];

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *name = argv[i] + (argv[i][0] == '-' && argv[i][1] == '-' ? 2 : 1);

		if (argv[i][0] != '-')
			die("unexpected argument ", argv[i]);
		if (strcmp(name, "f") == 0)
			file = argv[i + 1];
		else if (strcmp(name, "n") == 0)
			count = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(name, "mode") == 0)
			mode = argv[i + 1];
		else
			die("unknown flag ", argv[i]);
	}
	if (argc % 2 == 0)
		die("usage: offline -f FILE -n COUNT [-mode NAME]", NULL);
	if (!file || count == 0)
		die("missing -f FILE or -n COUNT", NULL);
	for (const char *p = mode; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			die("invalid -mode ", mode);

	struct counter c = {.last_seq = count - 1};
	int64_t cpu0, sys0, cpu1, sys1;
	long flt0, flt1;
	usage(&cpu0, &sys0, &flt0);
	int64_t t0 = now_ns();
	pcap_t *p = pcap_open_offline(file, errbuf);
	if (!p)
		die("pcap_open_offline: ", errbuf);
	int n;
	while ((n = pcap_dispatch(p, -1, on_packet, (u_char *)&c)) > 0)
		;
	int64_t t1 = now_ns();
	usage(&cpu1, &sys1, &flt1);
	if (n < 0)
		die("pcap_dispatch: ", pcap_geterr(p));
	pcap_close(p);

	int64_t wall = t1 - t0, cpu = cpu1 - cpu0;
	double per = c.captured > 0 ? (double)c.captured : 1.0;
	printf("{\"capturer\":\"libpcap\",\"mode\":\"%s\",\"ring_bytes\":0,"
	       "\"captured\":%" PRIu64 ",\"other\":%" PRIu64 ",\"drops\":0,"
	       "\"out_of_order\":%" PRIu64 ",\"end\":\"%s\",\"cpu_ns\":%lld,\"sys_ns\":%lld,"
	       "\"minor_faults\":%ld,\"wall_ns\":%lld,"
	       "\"cpu_ns_per_pkt\":%.2f,\"wall_ns_per_pkt\":%.2f}\n",
	       mode, c.captured, c.other, c.out_of_order, c.done ? "complete" : "eof",
	       (long long)cpu, (long long)(sys1 - sys0), flt1 - flt0, (long long)wall,
	       c.captured ? (double)cpu / per : 0.0,
	       c.captured ? (double)wall / per : 0.0);
	return 0;
}
