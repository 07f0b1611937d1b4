//go:build node

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPodReachesAPIServer runs this command's image (NODE_TEST_IMAGE, in the
// loopback registry) as a pod on the local node and checks that it is
// Running under a container runtime and that its in-cluster configuration
// reached the API server through the kubernetes Service. cluster/local/node-smoke.sh
// starts the stack and runs it.
func TestPodReachesAPIServer(t *testing.T) {
	image, root := os.Getenv("NODE_TEST_IMAGE"), os.Getenv("NODE_TEST_ROOT")
	if image == "" || root == "" || os.Getenv("KUBECONFIG") == "" {
		t.Fatal("NODE_TEST_IMAGE, NODE_TEST_ROOT and KUBECONFIG must be set: run cluster/local/node-smoke.sh")
	}
	kubectl := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "_output", "bin", "kubectl"), args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	kubectl(`apiVersion: v1
kind: Pod
metadata: {name: incluster, namespace: default}
spec:
  containers: [{name: incluster, image: "`+image+`"}]
`, "apply", "-f", "-")
	t.Cleanup(func() { kubectl("", "delete", "pod", "incluster", "-n", "default", "--wait=false") })
	kubectl("", "wait", "--for=condition=Ready", "--timeout=120s", "pod/incluster", "-n", "default")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := "in-cluster: https://10.0.0.1:443 answers v1.35.5; this pod is system:serviceaccount:default:default\n" +
		"dns: kubernetes.default.svc is 10.0.0.1"
	for {
		got := kubectl("", "logs", "incluster", "-n", "default")
		if got == want {
			t.Logf("pod log:\n%s", got)
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("pod log:\n%s\nwant: %s", got, want)
		}
		time.Sleep(time.Second)
	}
	id := kubectl("", "get", "pod", "incluster", "-n", "default", "-o", "jsonpath={.status.containerStatuses[0].containerID}")
	if !strings.HasPrefix(id, "containerd://") {
		t.Errorf("container ID %q: want one containerd runs", id)
	}
	parent := parentOf(t, "/usr/local/bin/incluster")
	if !strings.Contains(parent, "containerd-shim-runc-v2") {
		t.Errorf("the pod's process runs under %q, want containerd's shim", parent)
	}
	t.Logf("%s\nits process's parent: %s", kubectl("", "get", "pod", "incluster", "-n", "default", "-o", "wide"), parent)
}

// parentOf returns the command line of the parent of the one process on
// this machine whose command line is cmdline.
func parentOf(t *testing.T, cmdline string) string {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var found []string
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || strings.TrimRight(string(b), "\x00") != cmdline {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		p, _ := os.ReadFile(filepath.Join("/proc", f[1], "cmdline"))
		found = append(found, strings.ReplaceAll(strings.TrimRight(string(p), "\x00"), "\x00", " "))
	}
	if len(found) != 1 {
		t.Fatalf("%d processes run %s, want 1 (parents: %q)", len(found), cmdline, found)
	}
	return found[0]
}
