package mrtest

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
)

// VersionsEnv names the Authentik release lines (comma-separated, as in
// authentiksim.Lines) that Main runs a package's tests against. Unset, tests
// run against every line the simulator speaks, and benchmarks against
// authentiksim.DefaultVersion only.
const VersionsEnv = "AUTHENTIK_TEST_VERSIONS"

// ReleaseLine returns the Authentik release line the running tests talk to:
// the one VersionsEnv names, which Main sets before each run, else
// authentiksim.DefaultVersion.
func ReleaseLine() string {
	if v := os.Getenv(VersionsEnv); v != "" && !strings.Contains(v, ",") {
		return v
	}
	return authentiksim.DefaultVersion
}

// Main runs a package's tests once per Authentik release line, so that
// every controller test runs against what each line answers. Call it from
// TestMain. A failure is reported with the line it happened at. The line
// travels in VersionsEnv, set between runs while no test runs: a process
// per line would parse Authentik's schema once per line.
func Main(m *testing.M) {
	flag.Parse()
	lines := authentiksim.LineNames()
	switch v := os.Getenv(VersionsEnv); {
	case v != "":
		lines = strings.Split(v, ",")
	case flag.Lookup("test.bench").Value.String() != "":
		lines = []string{authentiksim.DefaultVersion}
	}
	code := 0
	for _, l := range lines {
		if _, err := authentiksim.LookupLine(l); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", VersionsEnv, err)
			os.Exit(2)
		}
		if err := os.Setenv(VersionsEnv, l); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", VersionsEnv, err)
			os.Exit(2)
		}
		fmt.Printf("=== Authentik %s\n", l)
		if c := m.Run(); c != 0 {
			fmt.Printf("--- FAIL against Authentik %s\n", l)
			code = c
		}
	}
	os.Exit(code)
}
