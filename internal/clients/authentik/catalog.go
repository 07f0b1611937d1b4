package authentik

import (
	"context"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errListScopeMappings = "cannot list scope mappings"
	errListKeyPairs      = "cannot list certificate key pairs"

	// catalogPageSize is the page size of the lists below: one page for
	// any install but a very large one.
	catalogPageSize = 500
)

// ScopeMappingNames names Authentik's scope property mappings both ways: a
// mapping is named by its managed key (goauthentik.io/providers/oauth2/
// scope-openid) when it has one, else by its name; either resolves to it.
type ScopeMappingNames struct {
	byKey  map[string]string
	labels map[string]string
}

// UUID resolves a managed key or a name to the mapping's UUID.
func (m ScopeMappingNames) UUID(keyOrName string) (string, bool) {
	pk, ok := m.byKey[keyOrName]
	return pk, ok
}

// Label names the mapping with UUID pk: its managed key, else its name, else
// the UUID itself for a mapping the list did not hold.
func (m ScopeMappingNames) Label(pk string) string {
	if l, ok := m.labels[pk]; ok {
		return l
	}
	return pk
}

// ScopeMappings lists every scope mapping.
func (c *Client) ScopeMappings(ctx context.Context) (ScopeMappingNames, error) {
	out := ScopeMappingNames{byKey: map[string]string{}, labels: map[string]string{}}
	for page := int32(1); page > 0; {
		l, resp, err := c.API.PropertymappingsAPI.PropertymappingsProviderScopeList(ctx).Page(page).PageSize(catalogPageSize).Execute()
		if err := Classify(resp, err); err != nil {
			return ScopeMappingNames{}, errors.Wrap(err, errListScopeMappings)
		}
		for _, sm := range l.Results {
			out.labels[sm.Pk] = sm.Name
			if _, taken := out.byKey[sm.Name]; !taken {
				out.byKey[sm.Name] = sm.Pk
			}
			if managed := sm.GetManaged(); managed != "" {
				out.labels[sm.Pk] = managed
				out.byKey[managed] = sm.Pk
			}
		}
		page = int32(l.Pagination.Next)
	}
	return out, nil
}

// CertificateKeyPairUUIDs returns the UUIDs of the certificate key pairs
// named name; Authentik does not keep names unique.
func (c *Client) CertificateKeyPairUUIDs(ctx context.Context, name string) ([]string, error) {
	l, resp, err := c.API.CryptoAPI.CryptoCertificatekeypairsList(ctx).Name(name).PageSize(catalogPageSize).Execute()
	if err := Classify(resp, err); err != nil {
		return nil, errors.Wrap(err, errListKeyPairs)
	}
	out := make([]string, 0, len(l.Results))
	for _, kp := range l.Results {
		if kp.Name == name {
			out = append(out, kp.Pk)
		}
	}
	return out, nil
}
