#!/usr/bin/env bash
# callgrind.sh counts the instructions each capturer runs per packet while
# it drains a ring: the generator fills a ring of N frames (default
# 100000) in a private namespace, then the capturer reads it under
# valgrind's callgrind, and callgrind_annotate prints where the
# instructions went. Divide a function's count by N for its count per
# packet. Run as root from the bench directory; needs valgrind, gcc,
# libpcap-dev and go.
#
#	bash callgrind.sh [N] [CAPTURER...]   (capturers: libpcap purecap; default both)
set -euo pipefail
cd "$(dirname "$0")"
n=${1:-100000}
shift || true
caps=("$@")
[ ${#caps[@]} -gt 0 ] || caps=(libpcap purecap)
for tool in valgrind callgrind_annotate gcc go ip; do
	command -v "$tool" >/dev/null || { echo "callgrind.sh: $tool not found" >&2; exit 1; }
done

tmp=$(mktemp -d)
ns=purecap-callgrind-$$
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

gcc -O2 -o "$tmp/gen" gen/gen.c
gcc -O2 -pthread -I gen -o "$tmp/capture-libpcap" libpcap/cap.c -lpcap
go build -o "$tmp/capture-purecap" ./cmd/capture-purecap

ip netns add "$ns"
ip -n "$ns" link add veth0 type veth peer name veth1
ip -n "$ns" link set veth0 up
ip -n "$ns" link set veth1 up
ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1
mac=$(ip -n "$ns" -br link show veth1 | awk '{print $3}')
ring=$(( (n * 512 / 1048576 + 1) * 1048576 ))

for c in "${caps[@]}"; do
	out="$tmp/callgrind.$c"
	# Go's asynchronous preemption signals upset callgrind.
	coproc CAP { GODEBUG=asyncpreemptoff=1 ip netns exec "$ns" valgrind -q --tool=callgrind \
		--callgrind-out-file="$out" "$tmp/capture-$c" -i veth1 -n "$n" -ring "$ring" \
		-mode drain -idle-ms 5000 -limit-ms 600000; }
	read -r line <&"${CAP[0]}"
	[ "$line" = ready ] || { echo "callgrind.sh: $c printed $line" >&2; exit 1; }
	ip netns exec "$ns" "$tmp/gen" -d "$mac" veth0 "$n" >/dev/null
	sleep 0.2 # the last block's timeout
	echo go >&"${CAP[1]}"
	read -r result <&"${CAP[0]}"
	wait "$CAP_PID"
	echo "== $c: $result"
	callgrind_annotate "$out" | sed -n '/^Ir/,$p' | head -20
done
