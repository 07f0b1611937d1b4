package outpost

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const errConfigNotObject = "spec.forProvider.config must be a JSON object"

// A view is an outpost in a comparable shape: the spec's config decoded,
// references left out.
type view struct {
	Name              *string
	Type              *string
	ServiceConnection *string
	Config            map[string]any
	ProviderIDs       []int32
}

// specView reads the spec into a view.
func specView(p v1alpha1.OutpostParameters) (view, error) {
	cfg, err := specConfig(p)
	if err != nil {
		return view{}, err
	}
	return view{Name: p.Name, Type: p.Type, ServiceConnection: p.ServiceConnection, Config: cfg, ProviderIDs: p.ProviderIDs}, nil
}

// specConfig decodes spec.forProvider.config; nil when unset.
func specConfig(p v1alpha1.OutpostParameters) (map[string]any, error) {
	if p.Config == nil || len(p.Config.Raw) == 0 {
		return nil, nil
	}
	var cfg map[string]any
	if err := json.Unmarshal(p.Config.Raw, &cfg); err != nil || cfg == nil {
		return nil, errors.New(errConfigNotObject)
	}
	return cfg, nil
}

// observedView reads an outpost as Authentik returned it. A missing service
// connection reads as "", the spec's way to ask for none.
func observedView(o *api.Outpost) view {
	sc := ""
	if o.ServiceConnection.IsSet() && o.ServiceConnection.Get() != nil {
		sc = *o.ServiceConnection.Get()
	}
	return view{
		Name:              ptr.To(o.Name),
		Type:              ptr.To(string(o.Type)),
		ServiceConnection: ptr.To(sc),
		Config:            o.Config,
		ProviderIDs:       slices.Clone(o.Providers),
	}
}

// providerChanges are what the outpost's list needs so that it serves every
// provider the spec names and none that this resource attached and the
// spec no longer names. Providers attached by anyone else are left alone.
// With the spec's list unset the list is not managed and needs nothing.
func providerChanges(spec, attached, observed []int32) (add, remove []int32) {
	if spec == nil {
		return nil, nil
	}
	for _, pk := range spec {
		if !slices.Contains(observed, pk) && !slices.Contains(add, pk) {
			add = append(add, pk)
		}
	}
	for _, pk := range attached {
		if !slices.Contains(spec, pk) && slices.Contains(observed, pk) && !slices.Contains(remove, pk) {
			remove = append(remove, pk)
		}
	}
	return add, remove
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ; of the config only the keys
// the spec sets are compared; of the provider list only the spec's
// providers and those this resource attached (the attached argument). An
// empty result means up to date.
func specDiff(spec, observed view, attached []int32) string {
	keep := func(s, o *string) *string {
		if s == nil {
			return nil
		}
		return o
	}
	got := view{
		Name:              keep(spec.Name, observed.Name),
		Type:              keep(spec.Type, observed.Type),
		ServiceConnection: keep(spec.ServiceConnection, observed.ServiceConnection),
	}
	if spec.Config != nil {
		got.Config = map[string]any{}
		for k := range spec.Config {
			if v, ok := observed.Config[k]; ok {
				got.Config[k] = v
			}
		}
	}
	if spec.ProviderIDs != nil {
		got.ProviderIDs = []int32{}
		for _, pk := range observed.ProviderIDs {
			if slices.Contains(spec.ProviderIDs, pk) || slices.Contains(attached, pk) {
				got.ProviderIDs = append(got.ProviderIDs, pk)
			}
		}
	}
	return cmp.Diff(spec, got, cmpopts.SortSlices(func(a, b int32) bool { return a < b }), cmpopts.EquateEmpty())
}

// lateInitialize fills the spec's unset name, type and service connection
// from Authentik and reports whether it changed anything. The config and
// the provider list stay unset: Authentik's defaults are not the user's
// choice, and an unset list is left to OutpostBindings.
func lateInitialize(spec *v1alpha1.OutpostParameters, observed view) bool {
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.Type, observed.Type),
		mrbehavior.FillUnset(&spec.ServiceConnection, observed.ServiceConnection),
	}
	return slices.Contains(filled, true)
}

// mergedConfig is base with the keys of over set on top; base is not
// changed. Authentik replaces the whole config on every write, so every
// write sends the keys the spec does not set as well.
func mergedConfig(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, over)
	return out
}

// observation is what status.atProvider shows of an outpost.
func observation(o *api.Outpost, attached []int32) v1alpha1.OutpostObservation {
	return v1alpha1.OutpostObservation{
		ID:                     ptr.To(o.Pk),
		Providers:              slices.Sorted(slices.Values(o.Providers)),
		AttachedProviderIDs:    slices.Clone(attached),
		Managed:                o.Managed.Get(),
		TokenIdentifier:        ptr.To(o.TokenIdentifier),
		RefreshIntervalSeconds: ptr.To(o.RefreshIntervalS),
	}
}
