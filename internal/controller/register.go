package controller

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/application"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/certificatekeypair"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/config"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/expressionpolicy"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/group"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/groupmembership"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/ldapprovider"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/oauth2provider"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/outpost"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/outpostbinding"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/policybinding"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/proxyprovider"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/samlpropertymapping"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/samlprovider"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/scopemapping"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/user"
)

// setups lists every controller's gated setup function.
var setups = []func(ctrl.Manager, controller.Options, *authentik.Connector) error{
	config.SetupGated,
	proxyprovider.SetupGated,
	oauth2provider.SetupGated,
	outpost.SetupGated,
	outpostbinding.SetupGated,
	ldapprovider.SetupGated,
	application.SetupGated,
	group.SetupGated,
	expressionpolicy.SetupGated,
	scopemapping.SetupGated,
	user.SetupGated,
	groupmembership.SetupGated,
	certificatekeypair.SetupGated,
	samlpropertymapping.SetupGated,
	samlprovider.SetupGated,
	policybinding.SetupGated,
}

// SetupGated registers every controller to start once its CRDs exist. All
// of them share conn, and with it the flow cache, the shared reads, the
// HTTP transports and the outpost provider lists' editor.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	for _, setup := range setups {
		if err := setup(mgr, o, conn); err != nil {
			return err
		}
	}
	return nil
}
