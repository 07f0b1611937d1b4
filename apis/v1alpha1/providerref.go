package v1alpha1

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// A ProviderReference names a provider resource in the referencing
// resource's namespace, and its kind.
type ProviderReference struct {
	// Kind of the provider resource, in this API group. Default:
	// ProxyProvider.
	// +optional
	// +kubebuilder:default=ProxyProvider
	// +kubebuilder:validation:MinLength=1
	Kind string `json:"kind,omitempty"`

	xpv2.Reference `json:",inline"`
}

// A ProviderSelector selects provider resources of one kind in the
// referencing resource's namespace by their labels.
type ProviderSelector struct {
	// Kind of the provider resources to select, in this API group. Default:
	// ProxyProvider.
	// +optional
	// +kubebuilder:default=ProxyProvider
	// +kubebuilder:validation:MinLength=1
	Kind string `json:"kind,omitempty"`

	xpv2.Selector `json:",inline"`
}

// defaultProviderKind is the kind a reference without one names, so that
// references written before they could name a kind keep their meaning.
const defaultProviderKind = "ProxyProvider"

const (
	errUnknownProviderKind = "%s.kind: %q is not a provider kind; use one of %s"
	errProviderNotPK       = "%s: the %s's external name %q is not a pk"
)

// providerKinds are the kinds a provider reference may name. Each provider
// kind registers itself from its own types file, so a new provider kind
// changes no kind that references providers.
var providerKinds = map[string]func() reference.To{}

// registerProviderKind lets provider references name kind. newTo returns
// fresh objects to read a provider into; its external name must be the
// provider's pk.
func registerProviderKind(kind string, newTo func() reference.To) {
	providerKinds[kind] = newTo
}

// ProviderKinds are the kinds a provider reference may name, sorted.
func ProviderKinds() []string {
	kinds := make([]string, 0, len(providerKinds))
	for k := range providerKinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// providerTo returns what to read a provider of kind into; field names the
// reference for the error.
func providerTo(field, kind string) (reference.To, error) {
	if kind == "" {
		kind = defaultProviderKind
	}
	newTo, ok := providerKinds[kind]
	if !ok {
		return reference.To{}, errors.Errorf(errUnknownProviderKind, field, kind, strings.Join(ProviderKinds(), ", "))
	}
	return newTo(), nil
}

// providerPK parses a provider's external name.
func providerPK(field, kind, externalName string) (int32, error) {
	if kind == "" {
		kind = defaultProviderKind
	}
	pk, err := strconv.ParseInt(externalName, 10, 32)
	if err != nil || pk <= 0 {
		return 0, errors.Errorf(errProviderNotPK, field, kind, externalName)
	}
	return int32(pk), nil
}

// providerFields name, for errors, the reference and the selector fields
// that fill one pk field.
type providerFields struct {
	ref      string
	selector string
}

// resolveProvider returns the pk that ref, or else sel, names, and the
// reference it resolved. A reference is resolved on every reconcile, so a
// provider that was made again with a new pk is followed; a selector only
// fills an empty pk (or every time, with policy.resolve Always). An optional
// reference that does not resolve leaves current as it is.
func resolveProvider(ctx context.Context, c client.Reader, from resource.Managed, f providerFields, current *int32, ref *ProviderReference, sel *ProviderSelector) (*int32, *ProviderReference, error) {
	if (ref == nil && sel == nil) || meta.WasDeleted(from) {
		return current, ref, nil
	}
	req := reference.NamespacedResolutionRequest{Extract: reference.ExternalName()}
	field, kind := f.ref, ""
	if ref != nil {
		req.Reference = inNamespace(&ref.Reference)
		kind = ref.Kind
	} else if current != nil {
		req.CurrentValue = strconv.Itoa(int(*current))
	}
	if sel != nil && (ref == nil || sel.Policy.IsResolvePolicyAlways()) {
		req.Selector = selectInNamespace(&sel.Selector)
		field, kind = f.selector, sel.Kind
	}
	to, err := providerTo(field, kind)
	if err != nil {
		return nil, nil, err
	}
	req.To = to
	rsp, err := reference.NewAPINamespacedResolver(c, from).Resolve(ctx, req)
	if err != nil {
		return nil, nil, errors.Wrap(err, field)
	}
	if rsp.ResolvedReference == nil || rsp.ResolvedValue == "" {
		return current, ref, nil
	}
	pk, err := providerPK(field, kind, rsp.ResolvedValue)
	if err != nil {
		return nil, nil, err
	}
	return ptr.To(pk), &ProviderReference{Kind: kind, Reference: *local(rsp.ResolvedReference)}, nil
}

// resolveProviders returns the pks that refs, or else sel, name, and the
// references they resolved. References may name providers of different
// kinds; each is resolved on every reconcile. A selector only fills an empty
// list (or every time, with policy.resolve Always). An optional reference
// that does not resolve is left out.
func resolveProviders(ctx context.Context, c client.Reader, from resource.Managed, f providerFields, current []int32, refs []ProviderReference, sel *ProviderSelector) ([]int32, []ProviderReference, error) {
	if (len(refs) == 0 && sel == nil) || meta.WasDeleted(from) {
		return current, refs, nil
	}
	r := reference.NewAPINamespacedResolver(c, from)
	if sel == nil || (len(refs) > 0 && !sel.Policy.IsResolvePolicyAlways()) {
		pks := make([]int32, 0, len(refs))
		for i := range refs {
			field := f.ref + "[" + strconv.Itoa(i) + "]"
			to, err := providerTo(field, refs[i].Kind)
			if err != nil {
				return nil, nil, err
			}
			rsp, err := r.Resolve(ctx, reference.NamespacedResolutionRequest{Reference: inNamespace(&refs[i].Reference), To: to, Extract: reference.ExternalName()})
			if err != nil {
				return nil, nil, errors.Wrap(err, field)
			}
			if rsp.ResolvedValue == "" {
				continue
			}
			pk, err := providerPK(field, refs[i].Kind, rsp.ResolvedValue)
			if err != nil {
				return nil, nil, err
			}
			// providerIds is a set: two references to one provider give one pk.
			if !slices.Contains(pks, pk) {
				pks = append(pks, pk)
			}
		}
		return pks, refs, nil
	}

	to, err := providerTo(f.selector, sel.Kind)
	if err != nil {
		return nil, nil, err
	}
	req := reference.MultiNamespacedResolutionRequest{Selector: selectInNamespace(&sel.Selector), To: to, Extract: reference.ExternalName()}
	if len(refs) == 0 {
		for _, pk := range current {
			req.CurrentValues = append(req.CurrentValues, strconv.Itoa(int(pk)))
		}
	}
	rsp, err := r.ResolveMultiple(ctx, req)
	if err != nil {
		return nil, nil, errors.Wrap(err, f.selector)
	}
	if len(rsp.ResolvedReferences) == 0 {
		return current, refs, nil
	}
	pks := make([]int32, 0, len(rsp.ResolvedValues))
	selected := make([]ProviderReference, 0, len(rsp.ResolvedReferences))
	for i, v := range rsp.ResolvedValues {
		pk, err := providerPK(f.selector, sel.Kind, v)
		if err != nil {
			return nil, nil, err
		}
		pks = append(pks, pk)
		selected = append(selected, ProviderReference{Kind: sel.Kind, Reference: *local(&rsp.ResolvedReferences[i])})
	}
	return pks, selected, nil
}
