package samlpropertymapping

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestMain runs every test of the package against each Authentik release
// line.
func TestMain(m *testing.M) { mrtest.Main(m) }
