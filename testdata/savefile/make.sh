#!/usr/bin/env bash
# Makes the savefiles of this directory with tcpdump, tshark and dumpcap
# (see README.md). Run as root from this directory; the live captures run
# in a private network namespace, deleted at the end. The shared filter
# corpus (../../../shared/filter/corpus, or $CORPUS) provides the inputs of
# the conversions.
set -euo pipefail
cd "$(dirname "$0")"
corpus=${CORPUS:-../../../shared/filter/corpus}
na=purecap-savefile-a-$$
nb=purecap-savefile-b-$$
trap 'ip netns del $na 2>/dev/null || true; ip netns del $nb 2>/dev/null || true' EXIT

# Live: a veth pair pa (namespace A, 10.9.0.1) <-> pb (namespace B,
# 10.9.0.2). tcpdump captures on pb with nanosecond timestamps; dumpcap
# captures on pa and on A's loopback into one pcapng file (two interfaces,
# with names and statistics blocks). A sends UDP datagrams (answered with
# ICMP port unreachable) and TCP SYNs (answered with RSTs) to B, and UDP to
# itself.
ip netns add $na
ip netns add $nb
ip -n $na link add pa type veth peer name pb netns $nb
for n in $na $nb; do
	ip netns exec $n sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n $n link set lo up
done
ip -n $na addr add 10.9.0.1/24 dev pa
ip -n $nb addr add 10.9.0.2/24 dev pb
ip -n $na link set pa up
ip -n $nb link set pb up
sleep 1
ip netns exec $nb tcpdump -q -i pb --time-stamp-precision=nano -U -w tcpdump-live-ns.pcap 2>/dev/null &
td=$!
ip netns exec $na dumpcap -q -i pa -i lo -a duration:3 -w dumpcap-multi.pcapng 2>/dev/null &
dc=$!
sleep 1
for i in 1 2 3; do
	ip netns exec $na bash -c "echo ping$i > /dev/udp/10.9.0.2/9" || true
	ip netns exec $na timeout 1 bash -c "exec 3<>/dev/tcp/10.9.0.2/80" 2>/dev/null || true
	ip netns exec $na bash -c "echo self$i > /dev/udp/127.0.0.1/9" || true
	sleep 0.1
done
wait $dc
kill -INT $td
wait $td || true

# Conversions.
tcpdump -r "$corpus/en10mb.pcap" -c 25 -w tcpdump-us.pcap 2>/dev/null
tcpdump --time-stamp-precision=nano -r dumpcap-multi.pcapng -w tcpdump-ns-from-pcapng.pcap 2>/dev/null
tshark -r "$corpus/linux_sll2.pcap" -c 25 -w tshark-sll2.pcapng 2>/dev/null
tshark -r tcpdump-live-ns.pcap -w tshark-ns.pcapng 2>/dev/null
tshark -r "$corpus/raw.pcap" -c 25 -F pcap -w tshark-raw-us.pcap 2>/dev/null
tshark -r tcpdump-live-ns.pcap -F nsecpcap -w tshark-ns.pcap 2>/dev/null
chmod 644 ./*.pcap ./*.pcapng
chown "$(id -u):$(id -g)" ./*.pcap ./*.pcapng
