package authentik

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

// The Authentik release lines the provider supports, oldest and newest: the
// lines the simulator speaks and the controller tests run against.
const (
	OldestSupportedVersion = "2024.12"
	NewestSupportedVersion = "2026.8"
)

const (
	versionPath = "/admin/version/"
	// maxHealthBody bounds what a health check reads of an answer; the
	// version answer is a few hundred bytes.
	maxHealthBody = 64 << 10

	errVersionRequest  = "cannot build the version request"
	errNotAuthentik    = "the answer is not Authentik's version"
	errNoVersion       = "Authentik's answer names no version_current"
	errVersionFormat   = "cannot read the Authentik version"
	errVersionNotShown = "Authentik accepts the token but does not show it the version"
)

// tokenRefusals are the messages with which Authentik's API refuses the
// credentials themselves: TokenAuthentication (authentik/api/authentication.py)
// raises AuthenticationFailed with the first four, and Django REST
// framework's NotAuthenticated says the last when no token was sent. Any
// other 403 is a permission refusal, given after the token was accepted.
var tokenRefusals = map[string]bool{
	"Token invalid/expired":                         true,
	"Unsupported authentication type":               true,
	"Malformed header":                              true,
	"Incorrect authentication credentials.":         true,
	"Authentication credentials were not provided.": true,
}

// A Health is what one check of an Authentik instance found.
type Health struct {
	// URL is the Authentik server checked.
	URL string
	// Unreachable is why no answer from Authentik's API arrived; nil when
	// one did.
	Unreachable error
	// TokenRefused is Authentik's reason for refusing the token; "" when it
	// accepted it or was not reached.
	TokenRefused string
	// Version is the version Authentik reported; "" when it did not.
	Version string
	// VersionUnknown is why Version is empty although the token was
	// accepted.
	VersionUnknown error
}

// Usable tells whether resources can work through this Authentik: it
// answers and accepts the token. The version does not decide it.
func (h Health) Usable() bool { return h.Unreachable == nil && h.TokenRefused == "" }

// Problem describes why Authentik cannot be used, or "" when it can.
func (h Health) Problem() string {
	switch {
	case h.Unreachable != nil:
		return fmt.Sprintf("Authentik at %s is unreachable: %v", h.URL, h.Unreachable)
	case h.TokenRefused != "":
		return fmt.Sprintf("Authentik at %s refused the token: %s", h.URL, h.TokenRefused)
	}
	return ""
}

// CheckHealth asks Authentik which version it runs. VersionView
// (authentik/admin/api/version.py) lets any authenticated caller read it in
// every supported release (permission IsAuthenticated, no admin rights), so
// this one request shows whether Authentik answers, whether it accepts the
// token and which version it runs. A token that is valid but may not read
// the version still counts as accepted.
func (c *Client) CheckHealth(ctx context.Context) Health {
	h := Health{URL: c.baseURL}
	cfg := c.API.GetConfig()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+APIPath+versionPath, nil)
	if err != nil {
		h.Unreachable = errors.Wrap(err, errVersionRequest)
		return h
	}
	for k, v := range cfg.DefaultHeader {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		h.Unreachable = err
		return h
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody))
	if err != nil {
		h.Unreachable = err
		return h
	}

	ae := &APIError{Status: resp.StatusCode}
	parseErrorBody(ae, body)
	switch {
	case resp.StatusCode == http.StatusOK:
		var v struct {
			VersionCurrent *string `json:"version_current"`
		}
		switch err := json.Unmarshal(body, &v); {
		case err != nil:
			h.Unreachable = errors.Wrap(err, errNotAuthentik)
		case v.VersionCurrent == nil || *v.VersionCurrent == "":
			h.VersionUnknown = errors.New(errNoVersion)
		default:
			h.Version = *v.VersionCurrent
		}
	case resp.StatusCode == http.StatusUnauthorized,
		resp.StatusCode == http.StatusForbidden && tokenRefusals[ae.Detail]:
		h.TokenRefused = ae.Detail
		if h.TokenRefused == "" {
			h.TokenRefused = http.StatusText(resp.StatusCode)
		}
	case resp.StatusCode == http.StatusForbidden:
		h.VersionUnknown = errors.Wrap(ae, errVersionNotShown)
	default:
		// A 404 or a 5xx: no Authentik API at this URL, or it is failing.
		h.Unreachable = ae
	}
	return h
}

// releaseLine reads the release line of an Authentik version: "2025.10.4"
// and "2025.10.0-rc1" are both 2025.10.
var releaseLine = regexp.MustCompile(`^(\d{4})\.(\d{1,2})(?:[.\-+].*)?$`)

// A VersionError says that an Authentik version is outside the supported
// range, or cannot be read.
type VersionError struct {
	Version string
	// Unreadable is true when the version could not be parsed at all.
	Unreadable bool
}

func (e *VersionError) Error() string {
	if e.Unreadable {
		return fmt.Sprintf("%s %q; the provider supports %s to %s", errVersionFormat, e.Version, OldestSupportedVersion, NewestSupportedVersion)
	}
	return fmt.Sprintf("Authentik %s is outside the supported range %s to %s", e.Version, OldestSupportedVersion, NewestSupportedVersion)
}

// CheckVersion returns nil when version belongs to a supported release
// line, and a *VersionError naming the version and the range otherwise.
func CheckVersion(version string) error {
	v, ok := parseLine(version)
	if !ok {
		return &VersionError{Version: version, Unreadable: true}
	}
	oldest, _ := parseLine(OldestSupportedVersion)
	newest, _ := parseLine(NewestSupportedVersion)
	if v < oldest || v > newest {
		return &VersionError{Version: version}
	}
	return nil
}

// parseLine turns a version into a number that orders release lines:
// 2025.10 is 202510.
func parseLine(version string) (int, bool) {
	m := releaseLine.FindStringSubmatch(version)
	if m == nil {
		return 0, false
	}
	year, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return year*100 + minor, true
}
