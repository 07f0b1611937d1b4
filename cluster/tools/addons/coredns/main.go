// Command coredns is CoreDNS with only the plugins the local node's cluster
// DNS needs (the kubernetes plugin answers Service names), so that building
// it does not pull every cloud provider's SDK in.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// The plugins named in directives, each registering itself.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"
)

// directives is CoreDNS' own plugin order (core/dnsserver/zdirectives.go),
// cut to the plugins imported above.
var directives = []string{"bind", "ready", "health", "errors", "loadbalance", "cache", "kubernetes"}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
