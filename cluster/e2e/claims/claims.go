// Package claims writes the ProxyConfigs (namespaced XRs) that the e2e and
// fault suites apply.
package claims

import (
	"fmt"
	"strings"
)

// ProxyConfig is a forward-auth ProxyConfig in ns whose provider,
// application slug and service are all called name, restricted to groups
// when any are given.
func ProxyConfig(ns, name string, groups ...string) string {
	doc := fmt.Sprintf(`apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  externalHost: https://%[1]s.e2e.example.com
  internalHost: http://%[1]s.%[2]s.svc.cluster.local:80
  authentikConfig:
    providerName: %[1]s
    mode: forward_single
`, name, ns)
	if len(groups) > 0 {
		doc += "    allowedGroups: [" + strings.Join(groups, ", ") + "]\n"
	}
	return doc
}
