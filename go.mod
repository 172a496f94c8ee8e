module github.com/purecap/pcap

go 1.24.0

require golang.org/x/sys v0.41.0

require golang.org/x/net v0.50.0
