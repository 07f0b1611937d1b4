//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// The closed-by-construction tests run in run.sh's second phase, against
// the provider started with the default --poll (E2E_POLL): no deletion in
// Authentik may open a restricted service, however long the provider takes
// to notice it.
const (
	closedOutsider = "e2e-closed-outsider"
	// releasedCommit is the last commit whose Compositions had no access
	// policy: what an existing installation runs before it upgrades.
	releasedCommit = "6becbd3"
)

// closedPoll is the provider's --poll in this phase.
func closedPoll(t *testing.T) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(os.Getenv("E2E_POLL"))
	if err != nil || d < time.Minute {
		t.Fatalf("E2E_POLL=%q: the closed-by-construction tests run against the provider at its default --poll (1m); run them with cluster/e2e/run.sh", os.Getenv("E2E_POLL"))
	}
	return d
}

// restricted is a ProxyConfig or an OIDCConfig in a namespace of its own.
type restricted struct {
	kind     string // proxyconfig or oidcconfig
	ns, name string
	provider string // the provider's name in Authentik, unique per test
	slug     string
	// composition names a Composition to use instead of the default one.
	composition string
}

func (r restricted) manifest(groups []string) string {
	g, _ := json.Marshal(groups)
	ref := ""
	if r.composition != "" {
		ref = fmt.Sprintf("  crossplane: {compositionRef: {name: %s}}\n", r.composition)
	}
	if r.kind == "oidcconfig" {
		return fmt.Sprintf(`apiVersion: gitops.io/v1
kind: OIDCConfig
metadata: {name: %s, namespace: %s}
spec:
%s  redirectUris: [https://%s.e2e.example.com/callback]
  credentialsSecretName: %s-oidc
  authentikConfig:
    providerName: %s
    allowedGroups: %s
    application: {slug: %s}
`, r.name, r.ns, ref, r.name, r.name, r.provider, g, r.slug)
	}
	return fmt.Sprintf(`apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: %s, namespace: %s}
spec:
%s  externalHost: %s.e2e.example.com
  authentikConfig:
    mode: forward_single
    providerName: %s
    allowedGroups: %s
    application: {slug: %s}
`, r.name, r.ns, ref, r.name, r.provider, g, r.slug)
}

// apply applies the service with the groups; the call that creates it also
// deletes it and its namespace when the test ends.
func (r restricted) apply(t *testing.T, e *env, groups ...string) {
	t.Helper()
	if out, _ := e.kubectl("", "get", r.kind, r.name, "-n", r.ns, "-o", "name"); strings.TrimSpace(out) != "" && !strings.Contains(out, "NotFound") {
		e.mustKubectl(t, r.manifest(groups), "apply", "-f", "-")
		return
	}
	e.ensureNamespace(t, r.ns)
	e.mustKubectl(t, r.manifest(groups), "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", r.kind, r.name, "-n", r.ns, "--timeout=120s")
		_, _ = e.kubectl("", "delete", "namespace", r.ns, "--wait=false")
	})
}

// state is whether the service is Ready, what its ACCESS column says and
// whether Authentik serves its provider through its application.
func (r restricted) state(t *testing.T, e *env) (ready, access string, served bool) {
	t.Helper()
	if r.kind == "oidcconfig" {
		o := e.oidcConfig(t, r.ns, r.name)
		ready, access = o.Ready, o.Access
	} else {
		a := e.access(t, r.ns, r.name)
		ready, access = a.Ready, a.Access
	}
	app := e.application(t, r.slug)
	if app == nil || app.Provider.Get() == nil {
		return ready, access, false
	}
	if r.kind == "oidcconfig" {
		return ready, access, true
	}
	return ready, access, len(e.servedBy(t, *app.Provider.Get())) > 0
}

// waitServed waits until the service is Ready, served and restricted to
// the groups, and returns how long that took.
func (r restricted) waitServed(t *testing.T, e *env, within time.Duration, groups ...string) time.Duration {
	t.Helper()
	want := "open to every user"
	if len(groups) > 0 {
		want = "restricted to " + strings.Join(groups, ", ")
	}
	start := time.Now()
	waitUntil(t, r.kind+" "+r.ns+"/"+r.name+" served, "+want, within, func() (bool, string) {
		ready, access, served := r.state(t, e)
		return ready == "True" && access == want && served, fmt.Sprintf("Ready=%s access=%q served=%v", ready, access, served)
	})
	return time.Since(start).Round(time.Second)
}

// outsiderExposures are the writes after which the simulator saw the
// service's provider served while a user in no group was admitted.
func (r restricted) outsiderExposures(t *testing.T) []exposure {
	t.Helper()
	return exposures(t, r.provider, closedOutsider)
}

// checkClosed fails the test if a user outside the groups was ever
// admitted, or if the simulator could not evaluate a policy on the way; and
// if the member was never served, which would make the first check blind.
func (r restricted) checkClosed(t *testing.T, member string) {
	t.Helper()
	if x := r.outsiderExposures(t); len(x) != 0 {
		t.Errorf("%s %s/%s: provider %s was served while %s, in no group, was admitted: %+v", r.kind, r.ns, r.name, r.provider, closedOutsider, x)
	}
	if errs := sim(t, http.MethodGet, "access-errors?provider="+url.QueryEscape(r.provider), ""); strings.TrimSpace(string(errs)) != "[]" {
		t.Errorf("the simulator could not evaluate an access decision for %s: %s", r.provider, errs)
	}
	if member != "" && len(exposures(t, r.provider, member)) == 0 {
		t.Errorf("the simulator never saw %s served to %s, a member: the check above saw nothing", r.provider, member)
	}
}

// waitBindings waits until the application's bindings in Authentik are
// those of the groups: one per group and the access policy's.
func (r restricted) waitBindings(t *testing.T, e *env, within time.Duration, groups ...string) {
	t.Helper()
	var want []string
	for _, g := range groups {
		want = append(want, "group "+g)
	}
	if len(groups) > 0 {
		want = append(want, "policy "+r.provider+": allowed groups")
	}
	sort.Strings(want)
	waitUntil(t, fmt.Sprintf("application %s bound to %q", r.slug, want), within, func() (bool, string) {
		got := e.bindings(t, r.slug)
		return slices.Equal(got, want), fmt.Sprintf("%q", got)
	})
}

// A deletion is something an Authentik admin deletes in Authentik.
type deletion struct {
	what string
	do   func(t *testing.T, e *env, r restricted, group string)
}

// bindings describes the application's bindings: the names of the bound
// groups and policies.
func (e *env) bindings(t *testing.T, slug string) []string {
	t.Helper()
	app := e.application(t, slug)
	if app == nil {
		return nil
	}
	l, resp, err := e.ak.API.PoliciesAPI.PoliciesBindingsList(context.Background()).Target(app.Pk).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range l.Results {
		if g := b.GroupObj.Get(); g != nil {
			out = append(out, "group "+g.Name)
		}
		if p := b.PolicyObj.Get(); p != nil {
			out = append(out, "policy "+p.Name)
		}
	}
	sort.Strings(out)
	return out
}

var deletions = map[string]deletion{
	"Group": {what: "the group", do: func(t *testing.T, e *env, _ restricted, group string) {
		e.deleteGroup(t, e.ensureGroup(t, group))
	}},
	"GroupBinding": {what: "the group's policy binding", do: func(t *testing.T, e *env, r restricted, group string) {
		app := e.application(t, r.slug)
		l, resp, err := e.ak.API.PoliciesAPI.PoliciesBindingsList(context.Background()).Target(app.Pk).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		for _, b := range l.Results {
			if g := b.GroupObj.Get(); g != nil && g.Name == group {
				if resp, err := e.ak.API.PoliciesAPI.PoliciesBindingsDestroy(context.Background(), b.Pk).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				return
			}
		}
		t.Fatalf("application %s has no binding of group %s", r.slug, group)
	}},
	"AccessPolicy": {what: "the access policy", do: func(t *testing.T, e *env, r restricted, _ string) {
		name := r.provider + ": allowed groups"
		l, resp, err := e.ak.API.PoliciesAPI.PoliciesExpressionList(context.Background()).Name(name).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		if len(l.Results) != 1 {
			t.Fatalf("Authentik has %d expression policies named %q, want 1", len(l.Results), name)
		}
		if resp, err := e.ak.API.PoliciesAPI.PoliciesExpressionDestroy(context.Background(), l.Results[0].Pk).Execute(); authentik.Classify(resp, err) != nil {
			t.Fatal(authentik.Classify(resp, err))
		}
	}},
	"Application": {what: "the application", do: func(t *testing.T, e *env, r restricted, _ string) {
		if resp, err := e.ak.API.CoreAPI.CoreApplicationsDestroy(context.Background(), r.slug).Execute(); authentik.Classify(resp, err) != nil {
			t.Fatal(authentik.Classify(resp, err))
		}
	}},
}

// TestClosedByConstruction: a ProxyConfig and an OIDCConfig restricted to
// one group; an admin deletes, in Authentik, the group, the group's
// binding, the access policy or the application. The simulator, evaluating
// Authentik's access decision after every write, never sees a user in no
// group admitted to a served provider; each comes back in Authentik by
// itself within two polls (a deleted group once it is made again).
func TestClosedByConstruction(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poll := closedPoll(t)
	setUser(t, closedOutsider)
	for _, kind := range []string{"proxyconfig", "oidcconfig"} {
		for name, d := range deletions {
			t.Run(kind+"/"+name, func(t *testing.T) {
				t.Parallel()
				short := strings.ToLower(kind[:2] + "-" + name)
				r := restricted{kind: kind, ns: "closed-" + short, name: "app", provider: "e2e-closed-" + short, slug: "e2e-closed-" + short}
				group, member := "E2E Closed "+short, "e2e-closed-member-"+short
				e.ensureGroup(t, group)
				t.Cleanup(func() { e.deleteGroup(t, e.ensureGroup(t, group)) })
				setUser(t, member, group)

				r.apply(t, e, group)
				// Checked however the steps below end.
				defer r.checkClosed(t, member)
				t.Logf("served after %s", r.waitServed(t, e, proxyConfigReady, group))
				d.do(t, e, r, group)
				if name == "Group" {
					// Closed with the group gone (the access policy admits no one by
					// a name no group has) until the provider notices and takes the
					// service out; then the group is made again and it comes back.
					waitUntil(t, "the service taken out after its group was deleted", 2*poll, func() (bool, string) {
						_, access, served := r.state(t, e)
						return access == "not served" && !served, fmt.Sprintf("access=%q served=%v", access, served)
					})
					e.ensureGroup(t, group)
					setUser(t, member, group)
				}
				// Authentik within two polls; the composite's status may trail it
				// by Crossplane's circuit-breaker cool-down.
				start := time.Now()
				waitUntil(t, "served again in Authentik", 2*poll, func() (bool, string) {
					_, _, served := r.state(t, e)
					return served, fmt.Sprintf("served=%v", served)
				})
				r.waitBindings(t, e, 2*poll, group)
				t.Logf("after deleting %s: served and bound again in Authentik after %s (--poll %s)", d.what, time.Since(start).Round(time.Second), poll)
				r.waitServed(t, e, xrStatusLag, group)
			})
		}
	}
}

// TestClosedAllowedGroupsChange: the groups of a restricted service change
// (one added, one removed); no user outside them is ever admitted. With
// none left it is open to every user, on purpose, and the simulator sees
// exactly that.
func TestClosedAllowedGroupsChange(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poll := closedPoll(t)
	setUser(t, closedOutsider)
	for _, kind := range []string{"proxyconfig", "oidcconfig"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			short := kind[:2] + "-change"
			r := restricted{kind: kind, ns: "closed-" + short, name: "app", provider: "e2e-closed-" + short, slug: "e2e-closed-" + short}
			first, second := "E2E Closed "+short+" first", "E2E Closed "+short+" second"
			for _, g := range []string{first, second} {
				e.ensureGroup(t, g)
				t.Cleanup(func() { e.deleteGroup(t, e.ensureGroup(t, g)) })
			}
			member := "e2e-closed-member-" + short
			setUser(t, member, second)

			for _, groups := range [][]string{{first}, {first, second}, {second}} {
				start := time.Now()
				r.apply(t, e, groups...)
				r.waitServed(t, e, proxyConfigReady, groups...)
				r.waitBindings(t, e, 2*poll, groups...)
				t.Logf("%q: served and bound in Authentik after %s", groups, time.Since(start).Round(time.Second))
			}
			r.checkClosed(t, member)

			r.apply(t, e)
			r.waitServed(t, e, 2*poll)
			waitUntil(t, "open to every user, on purpose", 2*poll, func() (bool, string) {
				x := r.outsiderExposures(t)
				return len(x) > 0, fmt.Sprintf("exposures to %s: %+v", closedOutsider, x)
			})
		})
	}
}

// TestClosedUpgrade: ProxyConfigs and OIDCConfigs made by the Compositions
// of releasedCommit (no access policy) get the new protection when they
// move to the current Compositions (as when a new Configuration updates
// the Composition they use), with no moment open to a user outside their
// group.
func TestClosedUpgrade(t *testing.T) {
	t.Parallel()
	e := setup(t)
	closedPoll(t)
	setUser(t, closedOutsider)
	for _, c := range []struct{ kind, file, name string }{
		{"proxyconfig", "package/configuration/composition.yaml", "proxyconfigs.gitops.io"},
		{"oidcconfig", "package/configuration/oidcconfig-composition.yaml", "oidcconfigs.gitops.io"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			t.Parallel()
			old := "released-" + c.name
			out, err := exec.Command("git", "-C", e.root, "show", releasedCommit+":"+c.file).Output()
			if err != nil {
				t.Fatalf("git show %s:%s (the tests need the repository's history): %v", releasedCommit, c.file, err)
			}
			e.mustKubectl(t, strings.Replace(string(out), "name: "+c.name, "name: "+old, 1), "apply", "-f", "-")
			t.Cleanup(func() { _, _ = e.kubectl("", "delete", "composition", old, "--wait=false") })

			short := c.kind[:2] + "-upgrade"
			r := restricted{kind: c.kind, ns: "closed-" + short, name: "app", provider: "e2e-closed-" + short, slug: "e2e-closed-" + short, composition: old}
			group, member := "E2E Closed "+short, "e2e-closed-member-"+short
			e.ensureGroup(t, group)
			t.Cleanup(func() { e.deleteGroup(t, e.ensureGroup(t, group)) })
			setUser(t, member, group)
			r.apply(t, e, group)
			t.Logf("served by %s after %s", old, r.waitServed(t, e, proxyConfigReady, group))
			if n := e.expressionPolicies(t, r.provider+": allowed groups"); n != 0 {
				t.Fatalf("the released Composition made %d access policies, want none", n)
			}

			r.composition = c.name
			e.mustKubectl(t, r.manifest([]string{group}), "apply", "-f", "-")
			waitUntil(t, "the access policy made", proxyConfigReady, func() (bool, string) {
				n := e.expressionPolicies(t, r.provider+": allowed groups")
				return n == 1, fmt.Sprintf("%d access policies", n)
			})
			t.Logf("served by %s after %s", c.name, r.waitServed(t, e, proxyConfigReady, group))
			r.checkClosed(t, member)
		})
	}
}

// expressionPolicies counts Authentik's expression policies named name.
func (e *env) expressionPolicies(t *testing.T, name string) int {
	t.Helper()
	l, resp, err := e.ak.API.PoliciesAPI.PoliciesExpressionList(context.Background()).Name(name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return len(l.Results)
}
