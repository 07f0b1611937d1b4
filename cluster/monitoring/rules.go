package monitoring

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

// RulesFile is the provider's PrometheusRule, relative to the repository
// root.
const RulesFile = "examples/gitops/infrastructure/monitoring/prometheusrule.yaml"

const (
	errReadRules      = "cannot read the PrometheusRule"
	errParseRules     = "cannot parse the PrometheusRule"
	errReadDashboard  = "cannot read the dashboard"
	errParseDashboard = "cannot parse the dashboard"
)

// A PrometheusRule is the part of the Prometheus Operator's kind the checks
// read.
type PrometheusRule struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Groups []RuleGroup `json:"groups"`
	} `json:"spec"`
}

// A RuleGroup is a group of rules, as Prometheus reads it.
type RuleGroup struct {
	Name  string `json:"name"`
	Rules []Rule `json:"rules"`
}

// A Rule is one alerting rule.
type Rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// LoadRules reads the PrometheusRule at path.
func LoadRules(path string) (*PrometheusRule, error) {
	b, err := os.ReadFile(path) //nolint:gosec // A path in the repository.
	if err != nil {
		return nil, errors.Wrap(err, errReadRules)
	}
	pr := &PrometheusRule{}
	return pr, errors.Wrap(yaml.UnmarshalStrict(b, pr), errParseRules)
}

// Alerts returns every rule of every group.
func (pr *PrometheusRule) Alerts() []Rule {
	var out []Rule
	for _, g := range pr.Spec.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

var (
	quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	// Label matchers, ranges and offsets, and the label lists of by,
	// without, on, ignoring and group_left/right name no metric.
	braces     = regexp.MustCompile(`\{[^{}]*\}|\[[^\]]*\]`)
	labelLists = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	// Grafana variables ($__rate_interval, ${job}) are not metrics.
	variables = regexp.MustCompile(`\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*`)
)

// promqlWords are PromQL's keywords and aggregation operators; functions
// are recognised by the parenthesis that follows them.
var promqlWords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "stddev": true, "stdvar": true,
	"topk": true, "bottomk": true, "quantile": true, "count_values": true, "group": true,
}

// MetricNames returns the metric names a PromQL expression selects, sorted
// and without duplicates.
func MetricNames(expr string) []string {
	e := quoted.ReplaceAllString(expr, " ")
	e = variables.ReplaceAllString(e, " ")
	e = labelLists.ReplaceAllString(e, " ")
	for prev := ""; prev != e; {
		prev, e = e, braces.ReplaceAllString(e, " ")
	}
	var names []string
	for _, loc := range identifier.FindAllStringIndex(e, -1) {
		word := e[loc[0]:loc[1]]
		rest := strings.TrimLeft(e[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || promqlWords[strings.ToLower(word)] {
			continue
		}
		// A number's exponent or a duration's unit (1e15, 5m) is not a name.
		if loc[0] > 0 && (e[loc[0]-1] >= '0' && e[loc[0]-1] <= '9' || e[loc[0]-1] == '.') {
			continue
		}
		if !slices.Contains(names, word) {
			names = append(names, word)
		}
	}
	slices.Sort(names)
	return names
}

// DashboardExprs returns the PromQL expression of every query in the
// Grafana dashboard JSON at path.
func DashboardExprs(path string) ([]string, error) {
	b, err := os.ReadFile(path) //nolint:gosec // A path in the repository.
	if err != nil {
		return nil, errors.Wrap(err, errReadDashboard)
	}
	var d any
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, errors.Wrap(err, errParseDashboard)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["expr"].(string); ok {
				exprs = append(exprs, e)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(d)
	slices.Sort(exprs)
	return exprs, nil
}
