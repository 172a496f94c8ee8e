package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/purecap/pcap"

	"github.com/purecap/pcap/bench/internal/capture"
)

// shmDir returns a tmpfs directory for the savefiles, so that the disk
// takes no part in the offline and dump modes: /dev/shm when it is there.
func shmDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

// writeSavefiles writes count benchmark frames, numbered 0 to count-1, one
// microsecond apart, to a pcap and a pcapng file in dir, with purecap's
// writers, and returns their paths keyed "pcap" and "pcapng".
func writeSavefiles(dir string, count uint64) (map[string]string, error) {
	files := map[string]string{
		"pcap":   filepath.Join(dir, "frames.pcap"),
		"pcapng": filepath.Join(dir, "frames.pcapng"),
	}
	for format, path := range files {
		if err := writeSavefile(path, format == "pcapng", count); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return files, nil
}

func writeSavefile(path string, ng bool, count uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	var dump func([]byte, pcap.CaptureInfo)
	var close func() error
	if ng {
		w, err := pcap.NewNgWriter(bw, pcap.LinkTypeEthernet, 262144, pcap.WithInterfaceName("veth1"))
		if err != nil {
			return err
		}
		dump, close = w.Dump, w.Close
	} else {
		w, err := pcap.NewWriter(bw, pcap.LinkTypeEthernet, 262144)
		if err != nil {
			return err
		}
		dump, close = w.Dump, w.Close
	}
	frame := capture.Frame(0)
	t0 := time.Unix(1700000000, 0)
	for seq := range count {
		binary.BigEndian.PutUint64(frame[capture.SeqOffset:], seq)
		dump(frame, pcap.CaptureInfo{Timestamp: t0.Add(time.Duration(seq) * time.Microsecond).UnixNano(), Length: len(frame)})
	}
	if err := close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}
