package filter_test

import (
	"fmt"

	"github.com/purecap/pcap/internal/filter"
)

func ExampleCompile() {
	prog, err := filter.Compile(filter.LinkTypeEthernet, 0, "ip and udp port 53")
	if err != nil {
		fmt.Println(err)
		return
	}
	last := prog[len(prog)-2]
	fmt.Println(len(prog), "instructions; accept returns", last.K)

	_, err = filter.Compile(filter.LinkTypeEthernet, 0, "tcp port foo")
	fmt.Println(err)
	// Output:
	// 13 instructions; accept returns 262144
	// filter: 1:10: expected a port number after "port", got "foo"
}
