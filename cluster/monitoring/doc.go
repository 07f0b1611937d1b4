// Package monitoring checks the provider's alert rules and Grafana
// dashboard, both in examples/gitops/infrastructure/monitoring.
// The tests without a build tag run with every `go test ./...`: each rule has
// a severity, a summary, a description and a runbook_url that leads to its
// row in the README, rules_test.yaml has a firing and a quiet case for each,
// and the PodMonitor, the PrometheusRule and the dashboard's ConfigMap carry
// the labels kube-prometheus-stack's defaults select. promtool_test.go (build tag rules) runs
// `promtool test rules` on them; it needs promtool in _output/bin
// (cluster/build-tools.sh promtool), which `make rules-test` builds:
//
//	go test -tags rules ./cluster/monitoring/...
//
// MetricNames is shared with the e2e suite, which checks that the running
// provider serves every metric the rules and the dashboard name.
package monitoring
