package filtertest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/bpf"

	ibpf "github.com/purecap/pcap/internal/bpf"
)

// Snaplen is the snapshot length the goldens are compiled with (tcpdump's
// default): the value an accepting libpcap program returns.
const Snaplen = 262144

// Golden is what libpcap makes of one expression for one link type.
type Golden struct {
	Source   string // the source of the expression in the corpus
	LinkType string
	Expr     string
	// Program is libpcap's program; nil when libpcap refuses the
	// expression.
	Program []bpf.RawInstruction
	// Err is libpcap's error message when it refuses the expression
	// ("syntax error", "expression rejects all packets", …).
	Err string
}

// Refused reports whether libpcap refuses the expression.
func (g Golden) Refused() bool { return g.Program == nil }

// GoldenFile is the content of one golden file: every golden of a link
// type, and the version of libpcap that made them.
type GoldenFile struct {
	LinkType string
	Version  string // tcpdump --version, its lines joined with "; "
	Goldens  []Golden
}

// goldenFileName returns the name of the golden file of a link type.
func goldenFileName(linkType string) string { return linkType + ".tsv" }

// The golden file format: comment lines starting with #, one of which is
// "# version: …", then one line per expression, with tab-separated fields
//
//	source  expression  N      code jt jf k,code jt jf k,…   (N instructions)
//	source  expression  error  message
const (
	goldenVersionPrefix = "# version: "
	goldenErrorMark     = "error"
)

// WriteGoldenFile writes f in the golden file format.
func WriteGoldenFile(w io.Writer, f GoldenFile) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# libpcap's programs for link type %s (tcpdump -y %s -ddd EXPR), snaplen %d.\n", f.LinkType, f.LinkType, Snaplen)
	fmt.Fprintf(bw, "# Made by: go test ./internal/filtertest -run TestGenerateGoldens -update\n")
	fmt.Fprintf(bw, "# Fields: source, expression, instruction count or %q, program (-ddd lines joined by commas) or libpcap's message.\n", goldenErrorMark)
	fmt.Fprintf(bw, "%s%s\n", goldenVersionPrefix, f.Version)
	for _, g := range f.Goldens {
		if strings.ContainsAny(g.Expr, "\t\n") || strings.ContainsAny(g.Err, "\t\n") {
			return fmt.Errorf("%s %q: tab or newline in the expression or message", g.LinkType, g.Expr)
		}
		if g.Refused() {
			fmt.Fprintf(bw, "%s\t%s\t%s\t%s\n", g.Source, g.Expr, goldenErrorMark, g.Err)
			continue
		}
		fmt.Fprintf(bw, "%s\t%s\t%d\t%s\n", g.Source, g.Expr, len(g.Program), FormatDDD(g.Program))
	}
	return bw.Flush()
}

// ReadGoldenFile reads a golden file of a link type.
func ReadGoldenFile(path, linkType string) (GoldenFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return GoldenFile{}, err
	}
	f := GoldenFile{LinkType: linkType}
	for n, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, goldenVersionPrefix); ok {
			f.Version = v
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, "\t", 4)
		if len(fields) != 4 {
			return GoldenFile{}, fmt.Errorf("%s:%d: want 4 tab-separated fields", path, n+1)
		}
		g := Golden{Source: fields[0], LinkType: linkType, Expr: fields[1]}
		if fields[2] == goldenErrorMark {
			g.Err = fields[3]
		} else {
			// The count and the instructions, commas for line breaks,
			// are tcpdump -ddd's output.
			g.Program, err = ibpf.ParseDecimal(fields[2] + "," + fields[3])
			if err != nil {
				return GoldenFile{}, fmt.Errorf("%s:%d: %w", path, n+1, err)
			}
		}
		f.Goldens = append(f.Goldens, g)
	}
	return f, nil
}

// LoadGoldens reads the golden files of every link type of LinkTypes from
// dir; a link type without a file is left out.
func LoadGoldens(dir string) ([]GoldenFile, error) {
	var out []GoldenFile
	for _, lt := range LinkTypes {
		f, err := ReadGoldenFile(filepath.Join(dir, goldenFileName(lt)), lt)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// SaveGoldens writes one golden file per link type into dir.
func SaveGoldens(dir string, files []GoldenFile) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := WriteGoldenFile(&buf, f); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, goldenFileName(f.LinkType)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// FormatDDD formats a program as tcpdump -ddd does (ibpf.DumpDecimal),
// without the leading count line and with commas between instructions.
func FormatDDD(prog []bpf.RawInstruction) string {
	_, insns, _ := strings.Cut(strings.TrimSuffix(ibpf.DumpDecimal(prog), "\n"), "\n")
	return strings.ReplaceAll(insns, "\n", ",")
}

// ErrNoTcpdump reports that tcpdump is not installed.
var ErrNoTcpdump = errors.New("tcpdump not found in PATH (apt-get install tcpdump)")

// TcpdumpVersion returns the output of tcpdump --version, its lines joined
// with "; ": the versions of tcpdump and of the libpcap it uses.
func TcpdumpVersion() (string, error) {
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		return "", ErrNoTcpdump
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tcpdump --version: %v: %s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// Only tcpdump's and libpcap's versions decide the programs.
		if strings.HasPrefix(l, "tcpdump") || strings.HasPrefix(l, "libpcap") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return strings.Join(lines, "; "), nil
}

// CompileWithTcpdump returns libpcap's program for an expression and link
// type (tcpdump -y linkType -ddd expr), or, when libpcap refuses it, a
// Golden with its error message. The error is for tcpdump failing to run.
func CompileWithTcpdump(ctx context.Context, linkType, expr string) (Golden, error) {
	g := Golden{LinkType: linkType, Expr: expr}
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		return g, ErrNoTcpdump
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-y", linkType, "-s", strconv.Itoa(Snaplen), "-ddd", "--", expr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// No name service beyond the files, and messages in English.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		g.Program, err = ibpf.ParseDecimal(stdout.String())
		if err != nil {
			return g, fmt.Errorf("tcpdump -y %s -ddd %q: %w", linkType, expr, err)
		}
		return g, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		g.Err = tcpdumpMessage(stderr.String())
		if g.Err == "" {
			return g, fmt.Errorf("tcpdump -y %s -ddd %q: exit status 1 without a message", linkType, expr)
		}
		return g, nil
	}
	return g, fmt.Errorf("tcpdump -y %s -ddd %q: %v: %s", linkType, expr, err, stderr.String())
}

// tcpdumpMessage extracts libpcap's message from tcpdump's standard error.
func tcpdumpMessage(stderr string) string {
	var msgs []string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		msgs = append(msgs, strings.TrimPrefix(l, "tcpdump: "))
	}
	return strings.Join(msgs, "; ")
}

// MakeGoldens compiles every expression with tcpdump, running up to
// workers of them at once, and returns one golden file per link type of
// LinkTypes that has expressions, in the corpus's order.
func MakeGoldens(ctx context.Context, exprs []Expression, workers int) ([]GoldenFile, error) {
	version, err := TcpdumpVersion()
	if err != nil {
		return nil, err
	}
	goldens, err := compileAll(ctx, exprs, workers)
	if err != nil {
		return nil, err
	}
	var files []GoldenFile
	for _, lt := range LinkTypes {
		f := GoldenFile{LinkType: lt, Version: version}
		for _, g := range goldens {
			if g.LinkType == lt {
				f.Goldens = append(f.Goldens, g)
			}
		}
		if len(f.Goldens) > 0 {
			files = append(files, f)
		}
	}
	return files, nil
}

// compileAll runs CompileWithTcpdump over exprs, keeping their order.
func compileAll(ctx context.Context, exprs []Expression, workers int) ([]Golden, error) {
	workers = max(workers, 1)
	out := make([]Golden, len(exprs))
	errs := make([]error, len(exprs))
	next := make(chan int)
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range next {
				g, err := CompileWithTcpdump(ctx, exprs[i].LinkType, exprs[i].Expr)
				g.Source = exprs[i].Source
				out[i], errs[i] = g, err
			}
		}()
	}
	for i := range exprs {
		next <- i
	}
	close(next)
	for range workers {
		<-done
	}
	return out, errors.Join(errs...)
}

// Mismatch is a golden that no longer matches what libpcap makes of its
// expression.
type Mismatch struct {
	Stored, Current Golden
}

func (m Mismatch) String() string {
	show := func(g Golden) string {
		if g.Refused() {
			return "refused: " + g.Err
		}
		return fmt.Sprintf("%d instructions: %s", len(g.Program), FormatDDD(g.Program))
	}
	return fmt.Sprintf("%s %q:\n\tgolden:  %s\n\ttcpdump: %s", m.Stored.LinkType, m.Stored.Expr, show(m.Stored), show(m.Current))
}

// CheckGoldens recompiles the goldens with tcpdump (every one when every is
// 1, else every every-th) and returns those that differ.
func CheckGoldens(ctx context.Context, goldens []Golden, every, workers int) ([]Mismatch, error) {
	var sample []Expression
	var stored []Golden
	for i, g := range goldens {
		if i%max(every, 1) == 0 {
			sample = append(sample, Expression{Source: g.Source, LinkType: g.LinkType, Expr: g.Expr})
			stored = append(stored, g)
		}
	}
	current, err := compileAll(ctx, sample, workers)
	if err != nil {
		return nil, err
	}
	var out []Mismatch
	for i, g := range stored {
		c := current[i]
		if g.Err != c.Err || !slices.Equal(g.Program, c.Program) {
			out = append(out, Mismatch{Stored: g, Current: c})
		}
	}
	return out, nil
}
