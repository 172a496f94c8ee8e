package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The two ends of the veth pair inside the namespace: the generator sends on
// genIface, the capturers read on capIface.
const (
	genIface = "veth0"
	capIface = "veth1"
)

// netns is a network namespace holding a veth pair.
type netns struct {
	name   string
	capMAC string // MAC address of capIface, the destination of the frames
}

// newNetns creates a namespace with a veth pair, both ends up, IPv6
// disabled so that nothing but the benchmark frames crosses the pair. On
// error, whatever was created is deleted again.
func newNetns(ctx context.Context) (ns *netns, err error) {
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("ip not found in PATH (install iproute2)")
	}
	ns = &netns{name: fmt.Sprintf("purecap-bench-%d", os.Getpid())}
	if err := ipCmd(ctx, "netns", "add", ns.name); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			ns.delete()
		}
	}()
	// Without IPv6 the interfaces send no router solicitations and the like.
	// Not fatal: the capturers tell such packets apart anyway.
	if err := ns.exec(ctx, "sysctl", "-q", "-w",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"); err != nil {
		warnf("could not disable IPv6 in the namespace: %v", err)
	}
	steps := [][]string{
		{"link", "add", genIface, "type", "veth", "peer", "name", capIface},
		{"link", "set", genIface, "up"},
		{"link", "set", capIface, "up"},
	}
	for _, args := range steps {
		if err := ipCmd(ctx, append([]string{"-n", ns.name}, args...)...); err != nil {
			return nil, err
		}
	}
	if err := ns.waitUp(ctx); err != nil {
		return nil, err
	}
	link, err := ns.link(ctx, capIface)
	if err != nil {
		return nil, err
	}
	ns.capMAC = link.Address
	return ns, nil
}

// linkInfo is the part of `ip -j link show` the harness reads.
type linkInfo struct {
	Name      string `json:"ifname"`
	Address   string `json:"address"`
	OperState string `json:"operstate"`
}

func (ns *netns) link(ctx context.Context, name string) (linkInfo, error) {
	out, err := exec.CommandContext(ctx, "ip", "-n", ns.name, "-j", "link", "show", "dev", name).Output()
	if err != nil {
		return linkInfo{}, fmt.Errorf("ip -n %s link show %s: %w", ns.name, name, exitError(err))
	}
	var links []linkInfo
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return linkInfo{}, fmt.Errorf("ip -n %s -j link show %s: unexpected output %q", ns.name, name, out)
	}
	return links[0], nil
}

// waitUp waits until both ends of the pair report carrier.
func (ns *netns) waitUp(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		up := 0
		for _, name := range []string{genIface, capIface} {
			l, err := ns.link(ctx, name)
			if err != nil {
				return err
			}
			if l.OperState == "UP" {
				up++
			}
		}
		if up == 2 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the veth pair in namespace %s did not come up", ns.name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// command returns a command that runs argv inside the namespace, pinned to
// cpu unless cpu is negative.
func (ns *netns) command(ctx context.Context, cpu int, argv ...string) *exec.Cmd {
	args := []string{"netns", "exec", ns.name}
	if cpu >= 0 {
		args = append(args, "taskset", "-c", fmt.Sprint(cpu))
	}
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.WaitDelay = 2 * time.Second
	logf("+ ip %s", strings.Join(args, " "))
	return cmd
}

// exec runs argv inside the namespace and waits for it.
func (ns *netns) exec(ctx context.Context, argv ...string) error {
	out, err := ns.command(ctx, -1, argv...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// delete removes the namespace and with it the veth pair. It does not
// depend on the harness's context, so that it also runs after Ctrl-C.
func (ns *netns) delete() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ipCmd(ctx, "netns", "del", ns.name); err != nil {
		warnf("deleting the network namespace: %v (remove it with: ip netns del %s)", err, ns.name)
	}
}

func ipCmd(ctx context.Context, args ...string) error {
	logf("+ ip %s", strings.Join(args, " "))
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// exitError adds the standard error output of a failed command to err.
func exitError(err error) error {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}
