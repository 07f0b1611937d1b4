package authentik

import (
	"context"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const errFindAnyProvider = "cannot look for a provider of another type with spec.forProvider.name"

// A ProviderElsewhere is a provider of another type than a resource's kind
// that has the name the resource wants.
type ProviderElsewhere struct {
	// PK, Name and VerboseName ("OAuth2/OpenID Provider") name it.
	PK          int32
	Name        string
	VerboseName string
}

// ProviderOfAnotherType finds the provider named name whose component (the
// type Authentik reports, ak-provider-proxy-form say) is not component;
// nil when there is none. Provider names are unique across every provider
// type (Provider.name in authentik/core/models.py), so such a provider
// blocks a create and no resource of the other kind may manage it. The
// generic provider list has no name filter, only a search over names.
func (c *Client) ProviderOfAnotherType(ctx context.Context, name, component string) (*ProviderElsewhere, error) {
	l, resp, err := c.API.ProvidersAPI.ProvidersAllList(ctx).Search(name).Execute()
	if err := Classify(resp, err); err != nil {
		return nil, errors.Wrap(err, errFindAnyProvider)
	}
	for _, p := range l.Results {
		if p.Name == name && p.Component != component {
			return &ProviderElsewhere{PK: p.Pk, Name: p.Name, VerboseName: p.VerboseName}, nil
		}
	}
	return nil, nil
}
