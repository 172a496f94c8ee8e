package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchModule is the module path of the bench directory.
const benchModule = "github.com/purecap/pcap/bench"

// capturer describes how to build one capturer.
type capturer struct {
	name string
	// build compiles the capturer from the bench directory into dst.
	build func(ctx context.Context, benchDir, dst string) error
}

var capturerByName = map[string]capturer{
	"libpcap": {"libpcap", func(ctx context.Context, benchDir, dst string) error {
		return gcc(ctx, dst, filepath.Join(benchDir, "libpcap", "cap.c"),
			"-pthread", "-I", filepath.Join(benchDir, "gen"), "-lpcap")
	}},
	"purecap":  {"purecap", goBuilder("./cmd/capture-purecap")},
	"afpacket": {"afpacket", goBuilder("./cmd/capture-afpacket")},
}

// findBenchDir returns the directory of the bench module: dir if it is not
// empty, otherwise the module the current directory belongs to (or its bench
// subdirectory when run from the repository root).
func findBenchDir(ctx context.Context, dir string) (string, error) {
	if dir == "" {
		out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
		if err != nil {
			return "", fmt.Errorf("go env GOMOD: %w (is go in PATH?)", err)
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			return "", errors.New("not inside a Go module: run the harness from the bench directory or give -dir")
		}
		dir = filepath.Dir(gomod)
		if !isBenchDir(dir) && isBenchDir(filepath.Join(dir, "bench")) {
			dir = filepath.Join(dir, "bench")
		}
	}
	if !isBenchDir(dir) {
		return "", fmt.Errorf("%s is not the bench module (%s with gen/gen.c): run the harness from the bench directory or give -dir", dir, benchModule)
	}
	return filepath.Abs(dir)
}

func isBenchDir(dir string) bool {
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	if _, err := os.Stat(filepath.Join(dir, "gen", "gen.c")); err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(mod), "\n")
	return strings.TrimSpace(first) == "module "+benchModule
}

// gcc compiles one C source file into the executable dst, with warnings on.
func gcc(ctx context.Context, dst, src string, extra ...string) error {
	args := append([]string{"-O2", "-Wall", "-Wextra", "-o", dst, src}, extra...)
	return runTool(ctx, "", "gcc", args...)
}

// goBuilder returns a build function for the Go command in package pkg.
func goBuilder(pkg string) func(ctx context.Context, benchDir, dst string) error {
	return func(ctx context.Context, benchDir, dst string) error {
		return runTool(ctx, benchDir, "go", "build", "-buildvcs=false", "-o", dst, pkg)
	}
}

// runTool runs a build tool in dir. Its output is shown when it fails, and
// also when it succeeds with warnings.
func runTool(ctx context.Context, dir, name string, args ...string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%s not found in PATH", name)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	logf("+ %s %s", name, strings.Join(args, " "))
	err := cmd.Run()
	msg := strings.TrimSpace(out.String())
	if err != nil {
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s %s failed:\n%s", name, strings.Join(args, " "), msg)
	}
	if msg != "" {
		warnf("%s %s:\n%s", name, strings.Join(args, " "), msg)
	}
	return nil
}

// buildAll builds the generator and the capturers named in names into dir
// (a variant such as "purecap-dumper" is its capturer run with -variant), and
// with offline the savefile readers of libpcap and purecap, and returns the
// path of each executable, keyed "gen", capturer name without variant, and
// "offline-libpcap" and "offline-purecap".
func buildAll(ctx context.Context, benchDir, dir string, names []string, offline bool) (map[string]string, error) {
	bins := map[string]string{"gen": filepath.Join(dir, "gen")}
	if err := gcc(ctx, bins["gen"], filepath.Join(benchDir, "gen", "gen.c")); err != nil {
		if strings.Contains(err.Error(), "No such file") {
			err = fmt.Errorf("%w\n(are gcc and the C library headers installed?)", err)
		}
		return nil, fmt.Errorf("building the generator: %w", err)
	}
	for _, name := range names {
		name, _, _ = strings.Cut(name, "-")
		if _, done := bins[name]; done {
			continue
		}
		dst := filepath.Join(dir, "capture-"+name)
		if err := capturerByName[name].build(ctx, benchDir, dst); err != nil {
			hint := ""
			switch name {
			case "libpcap":
				hint = "\n(is libpcap-dev installed? apt-get install libpcap-dev)"
			case "purecap":
				hint = "\n(does the purecap library in the parent directory build? leave it out with -capturers libpcap,afpacket)"
			}
			return nil, fmt.Errorf("building the %s capturer: %w%s", name, err, hint)
		}
		bins[name] = dst
	}
	if offline {
		dst := filepath.Join(dir, "offline-libpcap")
		if err := gcc(ctx, dst, filepath.Join(benchDir, "libpcap", "offline.c"),
			"-I", filepath.Join(benchDir, "gen"), "-lpcap"); err != nil {
			return nil, fmt.Errorf("building the libpcap savefile reader: %w\n(is libpcap-dev installed?)", err)
		}
		bins["offline-libpcap"] = dst
		dst = filepath.Join(dir, "offline-purecap")
		if err := goBuilder("./cmd/offline-purecap")(ctx, benchDir, dst); err != nil {
			return nil, fmt.Errorf("building the purecap savefile reader: %w", err)
		}
		bins["offline-purecap"] = dst
	}
	return bins, nil
}
