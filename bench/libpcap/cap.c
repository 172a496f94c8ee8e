/*
 * cap - libpcap benchmark capturer.
 *
 * Opens a libpcap handle on an interface (pcap_create, pcap_set_*,
 * pcap_activate; TPACKET_V3 since immediate mode is off), prints "ready",
 * waits for a line "go" on stdin, then reads with pcap_dispatch(h, -1, ...)
 * until it has seen the last sequence number, has been idle for a while
 * after the first packet, or has run into the overall time limit. It then
 * prints one JSON line of results (the same fields as the Go capturers, see
 * internal/capture).
 *
 * Flags (a single or double dash, "-flag value" or "-flag=value"):
 *   -i IFACE        interface to capture on (required)
 *   -n COUNT        number of frames the generator sends (required)
 *   -ring BYTES     ring buffer size, 0 = libpcap's default
 *   -mode NAME      benchmark mode, only echoed in the output
 *   -snaplen N      snapshot length (default 262144)
 *   -timeout-ms MS  read timeout, also the TPACKET_V3 block timeout (default 10)
 *   -idle-ms MS     stop after this long without a packet (default 300)
 *   -limit-ms MS    hard limit of the measured phase (default 30000)
 *   -w FILE         also write every packet to FILE with pcap_dump
 *
 * The idle and overall limits are enforced by a watchdog thread that calls
 * pcap_breakloop(), which wakes a pcap_dispatch() blocked in poll().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "counter.h"

/* Why the measured phase ended. */
enum end_reason {
	END_NONE = 0,
	END_COMPLETE, /* the last sequence number was captured */
	END_IDLE,     /* no packet for idle_ms after the first one */
	END_LIMIT,    /* limit_ms elapsed */
};

static const char *const end_names[] = {"none", "complete", "idle", "limit"};

struct options {
	const char *iface;
	uint64_t count;
	long long ring;
	const char *mode;
	long long snaplen;
	long long timeout_ms;
	long long idle_ms;
	long long limit_ms;
	const char *write; /* -w FILE, or NULL */
};

/* State shared between the capturing thread and the watchdog. */
struct watch {
	pcap_t *handle;
	int64_t start_ns;
	int64_t idle_ns;
	int64_t limit_ns;
	_Atomic uint64_t progress; /* packets seen so far, published per dispatch */
	_Atomic int reason;        /* enum end_reason set by the watchdog */
	_Atomic int stop;          /* set by the capturing thread when it is done */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("cap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		die("getrusage: %s", strerror(errno));
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static int64_t sys_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		die("getrusage: %s", strerror(errno));
	return (int64_t)ru.ru_stime.tv_sec * 1000000000 + (int64_t)ru.ru_stime.tv_usec * 1000;
}

static long minor_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		die("getrusage: %s", strerror(errno));
	return ru.ru_minflt;
}

static long long parse_int(const char *name, const char *s, long long min)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *s == '\0' || *end || v < min)
		die("invalid value %s for -%s", s, name);
	return v;
}

static void parse_flags(int argc, char **argv, struct options *o)
{
	*o = (struct options){
		.mode = "stream",
		.snaplen = 262144,
		.timeout_ms = 10,
		.idle_ms = 300,
		.limit_ms = 30000,
	};
	for (int i = 1; i < argc; i++) {
		const char *name = argv[i];
		const char *val;
		char buf[64];

		if (name[0] != '-')
			die("unexpected argument %s", name);
		name += name[1] == '-' ? 2 : 1;
		const char *eq = strchr(name, '=');
		if (eq) {
			snprintf(buf, sizeof(buf), "%.*s", (int)(eq - name), name);
			name = buf;
			val = eq + 1;
		} else {
			if (i + 1 >= argc)
				die("flag -%s needs a value", name);
			val = argv[++i];
		}

		if (strcmp(name, "i") == 0)
			o->iface = val;
		else if (strcmp(name, "n") == 0)
			o->count = (uint64_t)parse_int(name, val, 1);
		else if (strcmp(name, "ring") == 0)
			o->ring = parse_int(name, val, 0);
		else if (strcmp(name, "mode") == 0)
			o->mode = val;
		else if (strcmp(name, "snaplen") == 0)
			o->snaplen = parse_int(name, val, 1);
		else if (strcmp(name, "timeout-ms") == 0)
			o->timeout_ms = parse_int(name, val, 1);
		else if (strcmp(name, "idle-ms") == 0)
			o->idle_ms = parse_int(name, val, 1);
		else if (strcmp(name, "limit-ms") == 0)
			o->limit_ms = parse_int(name, val, 1);
		else if (strcmp(name, "w") == 0)
			o->write = val;
		else
			die("unknown flag -%s", name);
	}
	if (!o->iface)
		die("missing -i IFACE");
	if (o->count == 0)
		die("missing -n COUNT");
	for (const char *p = o->mode; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			die("invalid -mode %s: use lower-case letters, digits, '-' and '_'", o->mode);
	if (o->ring > 0x7fffffffLL || o->snaplen > 0x7fffffffLL || o->timeout_ms > 0x7fffffffLL)
		die("-ring, -snaplen and -timeout-ms must fit in an int");
}

/* The counter and the dump file, for on_packet_dump. */
struct dump_user {
	struct counter *c;
	pcap_dumper_t *d;
};

static void on_packet_dump(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct dump_user *u = (struct dump_user *)user;

	pcap_dump((u_char *)u->d, h, bytes);
	on_packet((u_char *)u->c, h, bytes);
}

/* watchdog ends the capture loop when it has been idle or has run too long. */
static void *watchdog(void *arg)
{
	struct watch *w = arg;
	const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
	uint64_t seen = 0;
	int64_t changed = w->start_ns;

	while (!atomic_load(&w->stop)) {
		nanosleep(&tick, NULL);

		int64_t t = now_ns();
		uint64_t p = atomic_load_explicit(&w->progress, memory_order_relaxed);
		int reason = END_NONE;

		if (p != seen) {
			seen = p;
			changed = t;
		} else if (p > 0 && t - changed >= w->idle_ns) {
			reason = END_IDLE;
		}
		if (t - w->start_ns >= w->limit_ns)
			reason = END_LIMIT;
		if (reason != END_NONE) {
			atomic_store(&w->reason, reason);
			pcap_breakloop(w->handle);
			break;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct options o;
	char errbuf[PCAP_ERRBUF_SIZE];
	int rc;

	parse_flags(argc, argv, &o);

	pcap_t *h = pcap_create(o.iface, errbuf);
	if (!h)
		die("pcap_create %s: %s", o.iface, errbuf);
	if ((rc = pcap_set_snaplen(h, (int)o.snaplen)) != 0)
		die("pcap_set_snaplen: %s", pcap_statustostr(rc));
	if ((rc = pcap_set_promisc(h, 0)) != 0)
		die("pcap_set_promisc: %s", pcap_statustostr(rc));
	if ((rc = pcap_set_timeout(h, (int)o.timeout_ms)) != 0)
		die("pcap_set_timeout: %s", pcap_statustostr(rc));
	if ((rc = pcap_set_immediate_mode(h, 0)) != 0)
		die("pcap_set_immediate_mode: %s", pcap_statustostr(rc));
	if (o.ring > 0 && (rc = pcap_set_buffer_size(h, (int)o.ring)) != 0)
		die("pcap_set_buffer_size: %s", pcap_statustostr(rc));
	rc = pcap_activate(h);
	if (rc < 0)
		die("pcap_activate %s: %s (%s)", o.iface, pcap_statustostr(rc), pcap_geterr(h));
	if (rc > 0)
		fprintf(stderr, "cap: pcap_activate %s: warning: %s (%s)\n", o.iface,
			pcap_statustostr(rc), pcap_geterr(h));
	pcap_dumper_t *dumper = NULL;
	if (o.write && !(dumper = pcap_dump_open(h, o.write)))
		die("pcap_dump_open %s: %s", o.write, pcap_geterr(h));

	printf("ready\n");
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		die("stdin closed before \"go\"");
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "go") != 0)
		die("expected \"go\" on stdin, got \"%s\"", line);

	struct counter c = {.last_seq = o.count - 1};
	struct dump_user du = {.c = &c, .d = dumper};
	struct watch w = {
		.handle = h,
		.idle_ns = o.idle_ms * 1000000LL,
		.limit_ns = o.limit_ms * 1000000LL,
	};
	int64_t cpu0 = cpu_ns();
	int64_t sys0 = sys_ns();
	long flt0 = minor_faults();
	int64_t t0 = now_ns();
	int64_t t_last = t0; /* when the last dispatch that returned packets ended */
	w.start_ns = t0;

	pthread_t tid;
	if ((rc = pthread_create(&tid, NULL, watchdog, &w)) != 0)
		die("pthread_create: %s", strerror(rc));

	enum end_reason end;
	for (;;) {
		int n = dumper ? pcap_dispatch(h, -1, on_packet_dump, (u_char *)&du)
			       : pcap_dispatch(h, -1, on_packet, (u_char *)&c);

		if (n > 0) {
			t_last = now_ns();
			atomic_store_explicit(&w.progress, c.captured + c.other,
					      memory_order_relaxed);
		}
		if (c.done) {
			end = END_COMPLETE;
			break;
		}
		if ((end = atomic_load(&w.reason)) != END_NONE)
			break;
		if (n == PCAP_ERROR)
			die("pcap_dispatch: %s", pcap_geterr(h));
	}
	int64_t t_end = now_ns();
	int64_t cpu1 = cpu_ns();
	int64_t sys1 = sys_ns();
	long flt1 = minor_faults();

	atomic_store(&w.stop, 1);
	pthread_join(tid, NULL);

	struct pcap_stat ps;
	if (pcap_stats(h, &ps) < 0)
		die("pcap_stats: %s", pcap_geterr(h));
	if (dumper) {
		if (pcap_dump_flush(dumper) < 0)
			die("pcap_dump_flush %s: write error", o.write);
		pcap_dump_close(dumper);
	}
	pcap_close(h);

	int64_t wall = (c.captured + c.other > 0 ? t_last : t_end) - t0;
	int64_t cpu = cpu1 - cpu0;
	double per = c.captured > 0 ? (double)c.captured : 1.0;

	printf("{\"capturer\":\"libpcap\",\"mode\":\"%s\",\"ring_bytes\":%lld,"
	       "\"captured\":%" PRIu64 ",\"other\":%" PRIu64 ",\"drops\":%u,"
	       "\"out_of_order\":%" PRIu64 ",\"end\":\"%s\",\"cpu_ns\":%lld,\"sys_ns\":%lld,\"minor_faults\":%ld,\"wall_ns\":%lld,"
	       "\"cpu_ns_per_pkt\":%.2f,\"wall_ns_per_pkt\":%.2f}\n",
	       o.mode, o.ring, c.captured, c.other, ps.ps_drop, c.out_of_order, end_names[end],
	       (long long)cpu, (long long)(sys1 - sys0), flt1 - flt0, (long long)wall, c.captured ? (double)cpu / per : 0.0,
	       c.captured ? (double)wall / per : 0.0);
	return 0;
}
