// walk.c walks a synthetic TPACKET_V3 ring the way libpcap's
// pcap_read_linux_mmap_v3 does, handing each packet to a callback through a
// function pointer, over memory flushed from the caches: the C counterpart
// of BenchmarkDispatchV3Cold and BenchmarkCallbackFloorCold in the purecap
// package. The ring is 256 MiB of 1 MiB blocks of 64-byte packets laid out
// as the kernel lays them out for an Ethernet socket.
//
//	gcc -O2 -o /tmp/walk walk.c && /tmp/walk
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <linux/if_packet.h>

struct hdr { struct timeval ts; uint32_t caplen, len; };
typedef void (*cb_t)(unsigned char *user, const struct hdr *h, const unsigned char *bytes);
static uint64_t sum;
__attribute__((noinline)) static void on_packet(unsigned char *u, const struct hdr *h, const unsigned char *b) {
	sum += b[14] + h->caplen;
}
static double cpu(void){ struct rusage ru; getrusage(RUSAGE_THREAD,&ru); return ru.ru_utime.tv_sec*1e9+ru.ru_utime.tv_usec*1e3+ru.ru_stime.tv_sec*1e9+ru.ru_stime.tv_usec*1e3; }
int main(void){
	size_t bs = 1<<20, nb = 256 /* 256 MiB */, size = bs*nb;
	unsigned char *mem = mmap(0,size,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
	madvise(mem,size,MADV_NOHUGEPAGE);
	long pkts=0;
	for (size_t b=0;b<nb;b++){
		unsigned char *blk = mem+b*bs;
		struct tpacket_block_desc *bd=(void*)blk;
		uint32_t off=48; int n=0;
		while (off+160 <= bs) {
			struct tpacket3_hdr *h=(void*)(blk+off);
			h->tp_next_offset=160; h->tp_sec=1; h->tp_nsec=n; h->tp_snaplen=64; h->tp_len=64; h->tp_mac=86; h->tp_status=1;
			memset(blk+off+86,0x45,64);
			off+=160; n++;
		}
		((struct tpacket3_hdr*)(blk+off-160))->tp_next_offset=0;
		bd->hdr.bh1.num_pkts=n; bd->hdr.bh1.offset_to_first_pkt=48; bd->hdr.bh1.block_status=1;
		pkts+=n;
	}
	unsigned char *ev = malloc(96<<20);
	cb_t cb = on_packet;
	for (int it=0; it<5; it++){
		for (size_t i=0;i<(96<<20);i+=64) ev[i]++;
		double c0=cpu();
		for (size_t b=0;b<nb;b++){
			unsigned char *blk = mem+b*bs;
			struct tpacket_block_desc *bd=(void*)blk;
			if (!(__atomic_load_n(&bd->hdr.bh1.block_status,__ATOMIC_ACQUIRE)&TP_STATUS_USER)) continue;
			unsigned char *p = blk+bd->hdr.bh1.offset_to_first_pkt;
			int left = bd->hdr.bh1.num_pkts;
			while (left--) {
				struct tpacket3_hdr *h=(void*)p;
				/* what pcap_handle_packet_mmap checks */
				if (h->tp_mac + h->tp_snaplen > bs) { fprintf(stderr,"corrupt\n"); return 1; }
				struct sockaddr_ll *sll = (void*)(p + TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
				if (sll->sll_pkttype == PACKET_OUTGOING && sll->sll_ifindex == -1) continue;
				struct hdr ph; ph.ts.tv_sec=h->tp_sec; ph.ts.tv_usec=h->tp_nsec/1000; ph.caplen=h->tp_snaplen; ph.len=h->tp_len;
				if (h->tp_status & TP_STATUS_VLAN_VALID) { ph.caplen+=4; }
				if (ph.caplen > 262144) ph.caplen = 262144;
				cb(0,&ph,p+h->tp_mac);
				p += h->tp_next_offset;
			}
		}
		double c1=cpu();
		printf("C walk: %.2f cpu-ns/pkt (%ld pkts)\n",(c1-c0)/pkts,pkts);
	}
	return sum==42;
}
