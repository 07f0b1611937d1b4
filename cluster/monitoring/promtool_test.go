//go:build rules

package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// promtool is the binary cluster/build-tools.sh promtool builds.
func promtool(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TOOLS_BIN")
	if bin == "" {
		bin = "../../_output/bin"
	}
	p, err := filepath.Abs(filepath.Join(bin, "promtool"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("promtool not built (run cluster/build-tools.sh promtool, or make rules-test): %v", err)
	}
	return p
}

// TestPromtool runs `promtool check rules` on the rule groups, annotations
// included (their templates must parse), and `promtool test rules` on
// rules_test.yaml against the groups without annotations: the cases compare
// the labels, and TestRulesAreComplete checks the annotations.
func TestPromtool(t *testing.T) {
	pt := promtool(t)
	pr, err := LoadRules(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := write("full.yaml", map[string]any{"groups": pr.Spec.Groups})
	bare := pr.Spec.Groups
	for i := range bare {
		for j := range bare[i].Rules {
			bare[i].Rules[j].Annotations = nil
		}
	}
	write("rules.yaml", map[string]any{"groups": bare})
	tests, err := os.ReadFile(ruleTestsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ruleTestsFile), tests, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"check", "rules", full}, {"test", "rules", ruleTestsFile}} {
		cmd := exec.Command(pt, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s %s failed: %v\n%s", args[0], args[1], err, out)
			continue
		}
		t.Logf("promtool %s %s:\n%s", args[0], args[1], out)
	}
}
