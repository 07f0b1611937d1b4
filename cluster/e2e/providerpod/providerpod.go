// Package providerpod finds the provider's pods that Crossplane runs on the
// local node from the provider's package, for the suites that run it so
// (cluster/package's node tests, cluster/e2e).
package providerpod

import (
	"net"
	"strings"
)

const (
	// Namespace is Crossplane's, where it runs the provider.
	Namespace = "crossplane-system"
	// Selector is the label Crossplane gives the provider's pods.
	Selector = "pkg.crossplane.io/provider=provider-authentik"
	// metricsPort is the port examples/gitops' DeploymentRuntimeConfig
	// names metrics.
	metricsPort = "8080"
)

// Kubectl runs kubectl with stdin and args and returns what it printed.
type Kubectl func(stdin string, args ...string) (string, error)

// Log is the log of the provider's running containers.
func Log(kubectl Kubectl) (string, error) {
	return kubectl("", "logs", "-n", Namespace, "-l", Selector, "--tail=-1")
}

// Ready are the names and addresses of the provider's Ready pods, leaving
// out any that is being deleted.
func Ready(kubectl Kubectl) (map[string]string, error) {
	out, err := kubectl("", "get", "pods", "-n", Namespace, "-l", Selector, "-o",
		`jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\n"}{end}`)
	if err != nil {
		return nil, err
	}
	pods := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[2] == "True" {
			pods[f[0]] = f[1]
		}
	}
	return pods, nil
}

// MetricsURL is the metrics endpoint of the provider's pod at ip.
func MetricsURL(ip string) string {
	return "http://" + net.JoinHostPort(ip, metricsPort) + "/metrics"
}
