package config

import (
	"context"
	"strconv"
	"strings"

	kmeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

const (
	errListProxyProviders   = "cannot list Authentik's proxy providers"
	errListApplications     = "cannot list Authentik's applications"
	errListManagedProviders = "cannot list ProxyProvider resources"
	errListManagedApps      = "cannot list Application resources"

	// scanPageSize is the page size of a scan: large, so a scan of a
	// typical instance is one request per kind.
	scanPageSize = 500
)

// An unmanagedCounter counts the objects in a config's Authentik that no
// managed resource owns. It runs from the health check, once per poll
// interval per config, and not from the managed resources' reconciles: its
// cost is two list requests per config and poll, whatever the number of
// resources, and a reconcile makes no request for it. A resource owns the
// object its external name names, whichever config it uses: configs that
// reach one Authentik with different tokens share its objects.
type unmanagedCounter struct {
	kube client.Client
	conn *authentik.Connector
}

// newUnmanagedCounter returns a counter that reads managed resources
// through kube and reaches Authentik through conn.
func newUnmanagedCounter(kube client.Client, conn *authentik.Connector) *unmanagedCounter {
	return &unmanagedCounter{kube: kube, conn: conn}
}

// Count returns pc's Authentik URL and, by kind (metrics.UnmanagedKinds),
// how many objects there no managed resource owns.
func (u *unmanagedCounter) Count(ctx context.Context, pc resource.ProviderConfig) (string, map[string]int, error) {
	cfg, err := u.conn.ConfigFor(ctx, pc)
	if err != nil {
		return "", nil, err
	}
	counts, err := u.count(ctx, cfg)
	return strings.TrimRight(cfg.URL, "/"), counts, err
}

func (u *unmanagedCounter) count(ctx context.Context, cfg authentik.Config) (map[string]int, error) {
	ac, err := u.conn.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	ownedProviders, err := u.ownedNames(ctx, &v1alpha1.ProxyProviderList{}, errListManagedProviders)
	if err != nil {
		return nil, err
	}
	ownedApps, err := u.ownedNames(ctx, &v1alpha1.ApplicationList{}, errListManagedApps)
	if err != nil {
		return nil, err
	}

	counts := map[string]int{}
	for page := int32(1); page > 0; {
		l, resp, err := ac.API.ProvidersAPI.ProvidersProxyList(ctx).Page(page).PageSize(scanPageSize).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errListProxyProviders)
		}
		for _, p := range l.Results {
			if !ownedProviders[strconv.Itoa(int(p.Pk))] {
				counts[metrics.UnmanagedKinds[0]]++
			}
		}
		page = int32(l.Pagination.Next)
	}
	for page := int32(1); page > 0; {
		l, resp, err := ac.API.CoreAPI.CoreApplicationsList(ctx).SuperuserFullList(true).Page(page).PageSize(scanPageSize).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errListApplications)
		}
		for _, a := range l.Results {
			if !ownedApps[strings.ToLower(a.Slug)] {
				counts[metrics.UnmanagedKinds[1]]++
			}
		}
		page = int32(l.Pagination.Next)
	}
	return counts, nil
}

// ownedNames returns the external names of the managed resources in list's
// kind. A kind whose CRD is not installed owns nothing.
func (u *unmanagedCounter) ownedNames(ctx context.Context, list resource.ManagedList, errList string) (map[string]bool, error) {
	if err := u.kube.List(ctx, list); err != nil {
		if kmeta.IsNoMatchError(err) {
			return map[string]bool{}, nil
		}
		return nil, errors.Wrap(err, errList)
	}
	owned := map[string]bool{}
	for _, mg := range list.GetItems() {
		if en := meta.GetExternalName(mg); en != "" {
			owned[strings.ToLower(en)] = true
		}
	}
	return owned, nil
}
