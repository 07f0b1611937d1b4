//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// What the seed's Jobs left in Authentik for Longhorn (their README: a
// forward-auth provider longhorn-proxy with a cookie domain, the
// application "Longhorn Storage"), attached to the embedded outpost. The
// Jobs' slug was longhorn, which examples/application.yaml takes in this
// suite, so the Jobs' application here is longhorn-storage: what matters is
// that it is not the slug the ProxyConfig would derive (longhorn-proxy).
const (
	jobsAppSlug      = "longhorn-storage"
	jobsAppName      = "Longhorn Storage"
	jobsInternalHost = "http://longhorn-frontend.longhorn-system.svc.cluster.local"
	jobsCookieDomain = "k8s.home.geoffdavis.com"
	takeOverField    = "spec.authentikConfig.takeOverExisting"
)

// service is the simulator's record of one outpost serving one provider
// (GET /_sim/service).
type service struct {
	Outpost       string `json:"outpost"`
	ProviderName  string `json:"provider_name"`
	Since         int    `json:"since"`
	Serving       bool   `json:"serving"`
	Interruptions []int  `json:"interruptions"`
}

func serviceRecord(t *testing.T, provider string) []service {
	t.Helper()
	var out []service
	if err := json.Unmarshal(sim(t, http.MethodGet, "service?provider="+provider, ""), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// takeoverStatus is what the test reads of the seed's ProxyConfig.
type takeoverStatus struct {
	Status struct {
		ProviderPK      int32  `json:"providerPk"`
		ApplicationSlug string `json:"applicationSlug"`
		Access          string `json:"access"`
		AccessReason    string `json:"accessReason"`
		Conditions      []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"conditions"`
	} `json:"status"`
}

func (e *env) takeoverStatus(t *testing.T) takeoverStatus {
	t.Helper()
	var st takeoverStatus
	if err := json.Unmarshal([]byte(e.mustKubectl(t, "", "get", "proxyconfig", seedName, "-n", seedNamespace, "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (s takeoverStatus) ready() (bool, string) {
	for _, c := range s.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True", c.Status + ": " + c.Message
		}
	}
	return false, "no Ready condition"
}

// jobsProvider makes a proxy provider with an application and attaches it
// to the embedded outpost, with the calls the Jobs made.
func (e *env) jobsProvider(t *testing.T, name, slug, appName string, mods func(*api.ProxyProviderRequest)) (int32, string) {
	t.Helper()
	ctx := context.Background()
	authz, err := e.ak.FlowUUID(ctx, "default-provider-authorization-implicit-consent")
	if err != nil {
		t.Fatal(err)
	}
	inval, err := e.ak.FlowUUID(ctx, "default-provider-invalidation-flow")
	if err != nil {
		t.Fatal(err)
	}
	req := api.NewProxyProviderRequest(name, authz, inval, "https://"+name+".k8s.home.geoffdavis.com")
	req.Mode = api.PROXYMODE_FORWARD_SINGLE.Ptr()
	mods(req)
	p, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(*req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	app := api.NewApplicationRequest(appName, slug)
	app.SetProvider(p.Pk)
	a, resp, err := e.ak.API.CoreAPI.CoreApplicationsCreate(ctx).ApplicationRequest(*app).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Whatever the test left: a taken-over provider is deleted with
		// the ProxyConfig, the bystanders here.
		_, _ = e.ak.API.CoreAPI.CoreApplicationsDestroy(context.Background(), slug).Execute()
		_, _ = e.ak.API.ProvidersAPI.ProvidersProxyDestroy(context.Background(), p.Pk).Execute()
	})
	o := e.embeddedOutpost(t)
	patch := api.NewPatchedOutpostRequest()
	patch.Providers = append(slices.Clone(o.Providers), p.Pk)
	if _, resp, err := e.ak.API.OutpostsAPI.OutpostsInstancesPartialUpdate(ctx, o.Pk).PatchedOutpostRequest(*patch).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
	return p.Pk, a.Pk
}

// rawObject is Authentik's answer for an object, byte for byte.
func rawObject(t *testing.T, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, simURL()+"/api/v3"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("E2E_TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// changesTo sums the simulator's writes to the operations with the
// prefix, creates left out: a provider learns that a name or slug is taken
// from Authentik's refusal of its create, which changes nothing. What
// exists is compared on its own.
func changesTo(w map[string]int, prefix string) int {
	n := 0
	for op, c := range w {
		if strings.HasPrefix(op, prefix) && !strings.HasSuffix(op, "_create") {
			n += c
		}
	}
	return n
}

// TestProxyConfigTakesOverTheJobs applies the seed's ProxyConfig to an
// Authentik where the seed's Jobs made its provider, application and
// outpost attachment. Without consent it changes nothing and says which
// field consents; with takeOverExisting it manages them without ever
// interrupting the service: same pk, same slug, no second object, the
// fields brought to the ProxyConfig's values, the provider on the outpost
// after every write, and the two other providers on it untouched.
func TestProxyConfigTakesOverTheJobs(t *testing.T) {
	e := setup(t)
	if n := len(e.providerByName(t, seedProviderName)); n != 0 {
		t.Fatalf("Authentik already has %d provider(s) named %s before the Jobs' state is loaded", n, seedProviderName)
	}
	pk, appPK := e.jobsProvider(t, seedProviderName, jobsAppSlug, jobsAppName, func(r *api.ProxyProviderRequest) {
		r.ExternalHost = seedExternalHost
		r.SetInternalHost(jobsInternalHost)
		r.Mode = api.PROXYMODE_FORWARD_DOMAIN.Ptr()
		r.SetCookieDomain(jobsCookieDomain)
	})
	bystanders := map[string]int32{}
	for _, name := range []string{"grafana-proxy", "prometheus-proxy"} {
		bystanders[name], _ = e.jobsProvider(t, name, strings.TrimSuffix(name, "-proxy")+"-jobs", name, func(*api.ProxyProviderRequest) {})
	}
	raw := map[string]string{}
	for name, bpk := range bystanders {
		raw[name] = rawObject(t, "/providers/proxy/"+strconv.Itoa(int(bpk))+"/")
		raw[name+" application"] = rawObject(t, "/core/applications/"+strings.TrimSuffix(name, "-proxy")+"-jobs/")
	}
	servedByJobs := serviceRecord(t, strconv.Itoa(int(pk)))
	if len(servedByJobs) != 1 || !servedByJobs[0].Serving {
		t.Fatalf("the simulator's service record of the Jobs' provider: %+v, want one outpost serving it", servedByJobs)
	}
	jobsProviderJSON := rawObject(t, "/providers/proxy/"+strconv.Itoa(int(pk))+"/")
	jobsAppJSON := rawObject(t, "/core/applications/"+jobsAppSlug+"/")
	loaded := simWrites(t)

	// Without consent: not Ready, the status names the field, Authentik unchanged.
	e.ensureNamespace(t, seedNamespace)
	manifest := filepath.Join(e.root, seedManifest)
	e.mustKubectl(t, "", "apply", "-f", manifest)
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "-f", manifest, "--ignore-not-found", "--wait=false")
	})
	waitUntil(t, "the ProxyConfig says how to consent", proxyConfigReady, func() (bool, string) {
		st := e.takeoverStatus(t)
		return strings.Contains(st.Status.AccessReason, takeOverField+": true"), fmt.Sprintf("access %q, accessReason %q", st.Status.Access, st.Status.AccessReason)
	})
	// A few polls more: still not Ready, still nothing written.
	time.Sleep(3 * poll)
	st := e.takeoverStatus(t)
	ready, why := st.ready()
	t.Logf("without consent: Ready %s; access %q; accessReason %q", why, st.Status.Access, st.Status.AccessReason)
	if ready {
		t.Errorf("the ProxyConfig is Ready without consent to take over what the Jobs made")
	}
	refused := simWrites(t)
	for _, prefix := range []string{"providers_", "core_applications_", "outposts_"} {
		if n := changesTo(refused, prefix) - changesTo(loaded, prefix); n != 0 {
			t.Errorf("without consent the provider wrote %d times to %s* (writes %v, before %v)", n, prefix, refused, loaded)
		}
	}
	if ps := e.providerByName(t, seedProviderName); len(ps) != 1 {
		t.Errorf("without consent Authentik has %d providers named %s, want the Jobs' one", len(ps), seedProviderName)
	}
	if e.application(t, seedProviderName) != nil {
		t.Errorf("without consent an application %s was made beside the Jobs' one", seedProviderName)
	}
	if got := rawObject(t, "/providers/proxy/"+strconv.Itoa(int(pk))+"/"); got != jobsProviderJSON {
		t.Errorf("the Jobs' provider changed without consent:\n%s", cmp.Diff(jobsProviderJSON, got))
	}
	if got := rawObject(t, "/core/applications/"+jobsAppSlug+"/"); got != jobsAppJSON {
		t.Errorf("the Jobs' application changed without consent:\n%s", cmp.Diff(jobsAppJSON, got))
	}

	// With consent: Ready, and the Jobs' objects are the ProxyConfig's.
	e.mustKubectl(t, "", "patch", "proxyconfig", seedName, "-n", seedNamespace, "--type=merge", "-p", `{"spec":{"authentikConfig":{"takeOverExisting":true}}}`)
	start := time.Now()
	waitUntil(t, "ProxyConfig "+seedName+" Ready with takeOverExisting", proxyConfigReady, func() (bool, string) {
		st := e.takeoverStatus(t)
		ready, why := st.ready()
		return ready && st.Status.ApplicationSlug != "", fmt.Sprintf("%s; applicationSlug %q accessReason %q", why, st.Status.ApplicationSlug, st.Status.AccessReason)
	})
	t.Logf("Ready %s after consent", time.Since(start).Round(time.Second))
	e.noWriteLoop(t)

	type outcome struct {
		ProviderPK, StatusPK     int32
		Slug, StatusSlug         string
		ApplicationPK            string
		ApplicationName          string
		ApplicationProvider      int32
		Mode                     api.ProxyMode
		ExternalHost             string
		InternalHost             string
		CookieDomain             string
		Providers                int
		ApplicationOfDerivedSlug bool
		Deletes                  int
		OnOutpost                bool
		Service                  []service
		BystandersUntouched      []string
		BystanderInterruptions   int
		BystandersOnOutpost      int
		Access                   string
	}
	ps := e.providerByName(t, seedProviderName)
	if len(ps) != 1 {
		t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), seedProviderName)
	}
	p := ps[0]
	app := e.application(t, jobsAppSlug)
	if app == nil {
		t.Fatalf("the Jobs' application %s is gone", jobsAppSlug)
	}
	st = e.takeoverStatus(t)
	done := simWrites(t)
	o := e.embeddedOutpost(t)
	got := outcome{
		ProviderPK: p.Pk, StatusPK: st.Status.ProviderPK,
		Slug: app.Slug, StatusSlug: st.Status.ApplicationSlug,
		ApplicationPK:       app.Pk,
		ApplicationName:     app.Name,
		Mode:                p.GetMode(),
		ExternalHost:        p.ExternalHost,
		InternalHost:        p.GetInternalHost(),
		CookieDomain:        p.GetCookieDomain(),
		Providers:           len(ps),
		Deletes:             done["providers_proxy_destroy"] - loaded["providers_proxy_destroy"] + done["core_applications_destroy"] - loaded["core_applications_destroy"],
		OnOutpost:           slices.Contains(o.Providers, pk),
		BystandersUntouched: []string{},
		Access:              st.Status.Access,
	}
	if ap := app.Provider.Get(); ap != nil {
		got.ApplicationProvider = *ap
	}
	got.ApplicationOfDerivedSlug = e.application(t, seedProviderName) != nil
	// One entry per outpost that ever served the provider: still the one
	// from the Jobs' attachment, serving, never interrupted.
	got.Service = serviceRecord(t, strconv.Itoa(int(pk)))
	for name, bpk := range bystanders {
		if rawObject(t, "/providers/proxy/"+strconv.Itoa(int(bpk))+"/") == raw[name] &&
			rawObject(t, "/core/applications/"+strings.TrimSuffix(name, "-proxy")+"-jobs/") == raw[name+" application"] {
			got.BystandersUntouched = append(got.BystandersUntouched, name)
		}
		for _, r := range serviceRecord(t, strconv.Itoa(int(bpk))) {
			got.BystanderInterruptions += len(r.Interruptions)
		}
		if slices.Contains(o.Providers, bpk) {
			got.BystandersOnOutpost++
		}
	}
	slices.Sort(got.BystandersUntouched)
	want := outcome{
		ProviderPK: pk, StatusPK: pk,
		Slug: jobsAppSlug, StatusSlug: jobsAppSlug,
		ApplicationPK:       appPK,
		ApplicationName:     seedProviderName,
		ApplicationProvider: pk,
		Mode:                api.PROXYMODE_FORWARD_SINGLE,
		ExternalHost:        seedExternalHost,
		InternalHost:        seedInternalHost,
		// Not in the seed's ProxyConfig, so not managed: kept.
		CookieDomain:        jobsCookieDomain,
		Providers:           1,
		OnOutpost:           true,
		Service:             servedByJobs,
		BystandersUntouched: []string{"grafana-proxy", "prometheus-proxy"},
		BystandersOnOutpost: 2,
		Access:              "open to every user",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after taking over what the Jobs made: -want, +got:\n%s", diff)
	}
	t.Logf("taken over: provider pk %d, application %s (pk %s), writes during takeover: %v", p.Pk, app.Slug, app.Pk, diffWrites(loaded, done))
	t.Logf("service record of %s: %+v", seedProviderName, got.Service)

	// Deleting the ProxyConfig now removes what it took over, and only that.
	e.mustKubectl(t, "", "delete", "-f", manifest, "--timeout=120s")
	waitUntil(t, "the taken-over provider and application gone", proxyConfigReady, func() (bool, string) {
		n := len(e.providerByName(t, seedProviderName))
		a := e.application(t, jobsAppSlug)
		o := e.embeddedOutpost(t)
		others := 0
		for _, bpk := range bystanders {
			if slices.Contains(o.Providers, bpk) {
				others++
			}
		}
		return n == 0 && a == nil && others == 2, fmt.Sprintf("%d providers named %s, application %s exists: %t, bystanders on the outpost: %d", n, seedProviderName, jobsAppSlug, a != nil, others)
	})
	waitUntil(t, "the ProxyConfig's managed resources deleted", time.Minute, func() (bool, string) {
		out, _ := e.kubectl("", "get", "managed", "-n", seedNamespace, "-o", "name")
		return strings.TrimSpace(out) == "", out
	})
}

func diffWrites(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range after {
		if d := n - before[op]; d != 0 {
			out[op] = d
		}
	}
	return out
}
