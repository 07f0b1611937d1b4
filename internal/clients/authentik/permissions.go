package authentik

import (
	"context"
	"io"
	"net/http"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	// probeMediaType is a request media type no parser of Authentik's
	// reads: a create sent with it is refused with 403 when the token's
	// user may not create that model, and otherwise with 415, before
	// anything is made.
	probeMediaType = "application/x-provider-authentik-permission-probe"
	// msgPermissionDenied is Django REST framework's PermissionDenied.
	msgPermissionDenied = "You do not have permission to perform this action."

	errProbeRequest = "cannot build the permission probe"
	errProbeAnswer  = "cannot tell whether the token may create objects at %s"
)

// A PermissionProbe is one permission the provider needs and the
// collection whose creates need it.
type PermissionProbe struct {
	// Permission as Authentik's RBAC names it: "<app label>.add_<model>".
	Permission string
	// Path of the collection below the API path.
	Path string
}

// PermissionProbes are the models the provider creates. Authentik's API
// refuses a create without the model's add permission
// (authentik/rbac/permissions.py ObjectPermissions, on Django REST
// framework's model permissions), checked before the body is read.
var PermissionProbes = []PermissionProbe{
	{Permission: "authentik_providers_proxy.add_proxyprovider", Path: "/providers/proxy/"},
	{Permission: "authentik_providers_oauth2.add_oauth2provider", Path: "/providers/oauth2/"},
	{Permission: "authentik_providers_saml.add_samlprovider", Path: "/providers/saml/"},
	{Permission: "authentik_providers_ldap.add_ldapprovider", Path: "/providers/ldap/"},
	{Permission: "authentik_providers_oauth2.add_scopemapping", Path: "/propertymappings/provider/scope/"},
	{Permission: "authentik_providers_saml.add_samlpropertymapping", Path: "/propertymappings/provider/saml/"},
	{Permission: "authentik_core.add_application", Path: "/core/applications/"},
	{Permission: "authentik_core.add_group", Path: "/core/groups/"},
	{Permission: "authentik_core.add_user", Path: "/core/users/"},
	{Permission: "authentik_outposts.add_outpost", Path: "/outposts/instances/"},
	{Permission: "authentik_policies.add_policybinding", Path: "/policies/bindings/"},
	{Permission: "authentik_policies_expression.add_expressionpolicy", Path: "/policies/expression/"},
	{Permission: "authentik_crypto.add_certificatekeypair", Path: "/crypto/certificatekeypairs/"},
}

// MissingPermissions returns the permissions of PermissionProbes the
// token's user lacks, in their order. Each is asked with a create whose
// body no parser of Authentik's reads, so nothing is ever made: 403 means
// the permission is missing, 415 that it is granted. Any other answer is an
// error naming the collection.
func (c *Client) MissingPermissions(ctx context.Context) ([]string, error) {
	var missing []string
	for _, p := range PermissionProbes {
		granted, err := c.probe(ctx, p.Path)
		if err != nil {
			return nil, err
		}
		if !granted {
			missing = append(missing, p.Permission)
		}
	}
	return missing, nil
}

func (c *Client) probe(ctx context.Context, path string) (bool, error) {
	cfg := c.API.GetConfig()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+APIPath+path, http.NoBody)
	if err != nil {
		return false, errors.Wrap(err, errProbeRequest)
	}
	for k, v := range cfg.DefaultHeader {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", probeMediaType)
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		return false, errors.Wrapf(err, errProbeAnswer, path)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody))
	if err != nil {
		return false, errors.Wrapf(err, errProbeAnswer, path)
	}
	ae := &APIError{Status: resp.StatusCode}
	parseErrorBody(ae, body)
	switch {
	case resp.StatusCode == http.StatusUnsupportedMediaType:
		return true, nil
	case resp.StatusCode == http.StatusForbidden && ae.Detail == msgPermissionDenied:
		return false, nil
	}
	return false, errors.Wrapf(ae, errProbeAnswer, path)
}
