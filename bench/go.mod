module github.com/purecap/pcap/bench

go 1.26.0

replace github.com/purecap/pcap => ../

require (
	github.com/gopacket/gopacket v1.7.7
	github.com/purecap/pcap v0.0.0-00010101000000-000000000000
	golang.org/x/sys v0.49.0
)

require golang.org/x/net v0.62.0 // indirect
