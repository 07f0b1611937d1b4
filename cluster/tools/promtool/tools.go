//go:build tools

// Package tools pins promtool, which cluster/build-tools.sh builds to test the alert rules.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
