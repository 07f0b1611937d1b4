package authentiksim

import (
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func TestEmbeddedOutpostIsSeeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.embeddedOutpost(t)
	type view struct {
		Name, Type, Managed string
		Providers           []int32
		RefreshIntervalS    int32
	}
	want := view{Name: embeddedOutpostName, Type: "proxy", Managed: embeddedOutpostManaged, Providers: []int32{}, RefreshIntervalS: 300}
	got := view{Name: o.Name, Type: string(o.Type), Managed: *o.Managed.Get(), Providers: o.Providers, RefreshIntervalS: o.RefreshIntervalS}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("embedded outpost: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(e.Sim.Fixtures().EmbeddedOutpost, o.Pk); diff != "" {
		t.Errorf("Fixtures().EmbeddedOutpost: -want, +got:\n%s", diff)
	}
}

func TestOutpostCreate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		req    func(t *testing.T, e *env) *api.OutpostRequest
		want   outcome
	}{
		"ProxyOutpost": {
			reason: "A proxy outpost with a proxy provider is valid.",
			req: func(t *testing.T, e *env) *api.OutpostRequest {
				return api.NewOutpostRequest("o", api.OUTPOSTTYPEENUM_PROXY, []int32{e.createProvider(t, "p").Pk}, map[string]interface{}{})
			},
			want: outcome{Status: http.StatusCreated},
		},
		"NoProviders": {
			reason: "Only the embedded outpost may have no providers.",
			req: func(*testing.T, *env) *api.OutpostRequest {
				return api.NewOutpostRequest("o", api.OUTPOSTTYPEENUM_PROXY, []int32{}, map[string]interface{}{})
			},
			want: fieldError("providers", msgEmptyList),
		},
		"WrongProviderType": {
			reason: "An LDAP outpost cannot serve a proxy provider.",
			req: func(t *testing.T, e *env) *api.OutpostRequest {
				return api.NewOutpostRequest("o", api.OUTPOSTTYPEENUM_LDAP, []int32{e.createProvider(t, "p").Pk}, map[string]interface{}{})
			},
			want: fieldError("providers", "Outpost type ldap can't be used with ProxyProvider providers."),
		},
		"DuplicateName": {
			reason: "Outpost names are unique.",
			req: func(t *testing.T, e *env) *api.OutpostRequest {
				return api.NewOutpostRequest(embeddedOutpostName, api.OUTPOSTTYPEENUM_PROXY, []int32{e.createProvider(t, "p").Pk}, map[string]interface{}{})
			},
			want: fieldError("name", "Outpost with this name already exists."),
		},
		"DuplicateManaged": {
			reason: "managed is unique: there is one embedded outpost.",
			req: func(t *testing.T, e *env) *api.OutpostRequest {
				r := api.NewOutpostRequest("second embedded", api.OUTPOSTTYPEENUM_PROXY, []int32{e.createProvider(t, "p").Pk}, map[string]interface{}{})
				r.SetManaged(embeddedOutpostManaged)
				return r
			},
			want: fieldError("managed", "Outpost with this Managed by authentik already exists."),
		},
		"ConfigWrongType": {
			reason: "The config is checked against OutpostConfig's field types.",
			req: func(t *testing.T, e *env) *api.OutpostRequest {
				return api.NewOutpostRequest("o", api.OUTPOSTTYPEENUM_PROXY, []int32{e.createProvider(t, "p").Pk}, map[string]interface{}{"kubernetes_replicas": "two"})
			},
			want: fieldError("config", `Failed to validate config: wrong value type for field "kubernetes_replicas" - should be "int" instead of value "two" of type "str"`),
		},
		"ConfigBadRefreshInterval": {
			reason: "The refresh interval must be an Authentik duration.",
			req: func(t *testing.T, e *env) *api.OutpostRequest {
				return api.NewOutpostRequest("o", api.OUTPOSTTYPEENUM_PROXY, []int32{e.createProvider(t, "p").Pk}, map[string]interface{}{"refresh_interval": "minutes-5"})
			},
			want: fieldError("config", "minutes-5 is not in the correct format of 'hours=3;minutes=1'."),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			_, resp, err := e.c.OutpostsAPI.OutpostsInstancesCreate(e.ctx).OutpostRequest(*tc.req(t, e)).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\nOutpostsInstancesCreate(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOutpostUpdate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		// calls run in order; all but the last must succeed.
		calls []func(e *env, outpost string, provider int32) (*api.Outpost, *http.Response, error)
		// embedded targets the embedded outpost instead of a new one.
		embedded bool
		want     outcome
	}{
		"EmbeddedMayBeEmpty": {
			reason:   "The managed embedded outpost may have no providers.",
			embedded: true,
			calls:    []func(*env, string, int32) (*api.Outpost, *http.Response, error){patchProviders()},
			want:     outcome{Status: http.StatusOK},
		},
		"OthersMayNotBeEmpty": {
			reason: "Any other outpost needs at least one provider.",
			calls:  []func(*env, string, int32) (*api.Outpost, *http.Response, error){patchProviders()},
			want:   fieldError("providers", msgEmptyList),
		},
		"EmbeddedCannotBeRenamed": {
			reason:   "The embedded outpost keeps its name.",
			embedded: true,
			calls: []func(*env, string, int32) (*api.Outpost, *http.Response, error){
				func(e *env, o string, _ int32) (*api.Outpost, *http.Response, error) {
					p := api.NewPatchedOutpostRequest()
					p.SetName("mine")
					return e.c.OutpostsAPI.OutpostsInstancesPartialUpdate(e.ctx, o).PatchedOutpostRequest(*p).Execute()
				},
			},
			want: fieldError("name", msgEmbeddedRename),
		},
		"TypeCheckedWhenSent": {
			reason: "Sending type with the providers checks that they fit the type.",
			calls: []func(*env, string, int32) (*api.Outpost, *http.Response, error){
				func(e *env, o string, provider int32) (*api.Outpost, *http.Response, error) {
					p := api.NewPatchedOutpostRequest()
					p.SetType(api.OUTPOSTTYPEENUM_LDAP)
					p.SetProviders([]int32{provider})
					return e.c.OutpostsAPI.OutpostsInstancesPartialUpdate(e.ctx, o).PatchedOutpostRequest(*p).Execute()
				},
			},
			want: fieldError("providers", "Outpost type ldap can't be used with ProxyProvider providers."),
		},
		"TypeNotCheckedWhenAbsent": {
			reason: "The type check reads the request body: an LDAP outpost takes a proxy provider when type is not sent.",
			calls: []func(*env, string, int32) (*api.Outpost, *http.Response, error){
				func(e *env, o string, _ int32) (*api.Outpost, *http.Response, error) {
					p := api.NewPatchedOutpostRequest()
					p.SetType(api.OUTPOSTTYPEENUM_LDAP)
					return e.c.OutpostsAPI.OutpostsInstancesPartialUpdate(e.ctx, o).PatchedOutpostRequest(*p).Execute()
				},
				func(e *env, o string, provider int32) (*api.Outpost, *http.Response, error) {
					return patchProviders(provider)(e, o, provider)
				},
			},
			want: outcome{Status: http.StatusOK},
		},
		"PutFullObject": {
			reason: "A PUT replaces the provider list and config.",
			calls: []func(*env, string, int32) (*api.Outpost, *http.Response, error){
				func(e *env, o string, provider int32) (*api.Outpost, *http.Response, error) {
					r := api.NewOutpostRequest("renamed", api.OUTPOSTTYPEENUM_PROXY, []int32{provider}, map[string]interface{}{"refresh_interval": "minutes=1"})
					return e.c.OutpostsAPI.OutpostsInstancesUpdate(e.ctx, o).OutpostRequest(*r).Execute()
				},
			},
			want: outcome{Status: http.StatusOK},
		},
		"Missing": {
			reason: "Updating an outpost that does not exist is a 404.",
			calls: []func(*env, string, int32) (*api.Outpost, *http.Response, error){
				func(e *env, _ string, provider int32) (*api.Outpost, *http.Response, error) {
					return patchProviders(provider)(e, "00000000-0000-4000-8000-000000000000", provider)
				},
			},
			want: detailError(http.StatusNotFound, "Not found."),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			p := e.createProvider(t, "p")
			target := e.createOutpost(t, "o", p.Pk).Pk
			if tc.embedded {
				target = e.embeddedOutpost(t).Pk
			}
			var got outcome
			for i, call := range tc.calls {
				_, resp, err := call(e, target, p.Pk)
				if i < len(tc.calls)-1 && err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				got = outcomeOf(t, resp, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func patchProviders(providers ...int32) func(*env, string, int32) (*api.Outpost, *http.Response, error) {
	return func(e *env, o string, _ int32) (*api.Outpost, *http.Response, error) {
		p := api.NewPatchedOutpostRequest()
		p.SetProviders(append([]int32{}, providers...))
		return e.c.OutpostsAPI.OutpostsInstancesPartialUpdate(e.ctx, o).PatchedOutpostRequest(*p).Execute()
	}
}

func TestOutpostListAndSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createProvider(t, "a")
	b := e.createProvider(t, "b")
	e.createOutpost(t, "first", a.Pk)
	e.createOutpost(t, "second", a.Pk, b.Pk)

	cases := map[string]struct {
		reason string
		list   func(r api.ApiOutpostsInstancesListRequest) api.ApiOutpostsInstancesListRequest
		want   []string
	}{
		"All": {
			reason: "Outposts are listed by name.",
			list:   func(r api.ApiOutpostsInstancesListRequest) api.ApiOutpostsInstancesListRequest { return r },
			want:   []string{embeddedOutpostName, "first", "second"},
		},
		"ProvidersByPK": {
			reason: "providers_by_pk finds the outposts that serve a provider.",
			list: func(r api.ApiOutpostsInstancesListRequest) api.ApiOutpostsInstancesListRequest {
				return r.ProvidersByPk([]int32{b.Pk})
			},
			want: []string{"second"},
		},
		"NameIexact": {
			reason: "name__iexact ignores case.",
			list: func(r api.ApiOutpostsInstancesListRequest) api.ApiOutpostsInstancesListRequest {
				return r.NameIexact("FIRST")
			},
			want: []string{"first"},
		},
		"ManagedIexact": {
			reason: "managed__iexact finds the embedded outpost whatever it is called.",
			list: func(r api.ApiOutpostsInstancesListRequest) api.ApiOutpostsInstancesListRequest {
				return r.ManagedIexact("GOAUTHENTIK.IO/OUTPOSTS/EMBEDDED")
			},
			want: []string{embeddedOutpostName},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l, _, err := tc.list(e.c.OutpostsAPI.OutpostsInstancesList(e.ctx)).Execute()
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			got := []string{}
			for _, o := range l.Results {
				got = append(got, o.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}

	_, resp, err := e.c.OutpostsAPI.OutpostsInstancesList(e.ctx).ProvidersByPk([]int32{99}).Execute()
	if diff := cmp.Diff(fieldError("providers_by_pk", "Select a valid choice. 99 is not one of the available choices."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("providers_by_pk with a missing provider: -want, +got:\n%s", diff)
	}

	settings, _, err := e.c.OutpostsAPI.OutpostsInstancesDefaultSettingsRetrieve(e.ctx).Execute()
	if err != nil {
		t.Fatalf("default settings: %v", err)
	}
	if diff := cmp.Diff(e.URL+"/", settings.Config["authentik_host"]); diff != "" {
		t.Errorf("default settings point at the server that answered: -want, +got:\n%s", diff)
	}

	second, _, err := e.c.OutpostsAPI.OutpostsInstancesList(e.ctx).NameIexact("second").Execute()
	if err != nil || len(second.Results) != 1 {
		t.Fatalf("find second: %v", err)
	}
	if _, err := e.c.OutpostsAPI.OutpostsInstancesDestroy(e.ctx, second.Results[0].Pk).Execute(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	_, resp, err = e.c.OutpostsAPI.OutpostsInstancesRetrieve(e.ctx, second.Results[0].Pk).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("retrieve after destroy: -want, +got:\n%s", diff)
	}
}

// TestOutpostConcurrentUpdatesLoseOne shows why the provider must guard
// outpost updates itself: Authentik has no ETag and no compare-and-swap, so
// two clients that both read the provider list before either writes each
// write back their own version, and one addition is lost.
func TestOutpostConcurrentUpdatesLoseOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.createProvider(t, "mine")
	theirs := e.createProvider(t, "theirs")
	outpost := e.embeddedOutpost(t).Pk

	var read, done sync.WaitGroup
	read.Add(2)
	errs := make([]error, 2)
	for i, add := range []int32{mine.Pk, theirs.Pk} {
		done.Add(1)
		go func() {
			defer done.Done()
			o, _, err := e.c.OutpostsAPI.OutpostsInstancesRetrieve(e.ctx, outpost).Execute()
			read.Done()
			if err != nil {
				errs[i] = err
				return
			}
			// Both clients have read before either writes.
			read.Wait()
			p := api.NewPatchedOutpostRequest()
			p.SetProviders(append(o.Providers, add))
			_, _, errs[i] = e.c.OutpostsAPI.OutpostsInstancesPartialUpdate(e.ctx, outpost).PatchedOutpostRequest(*p).Execute()
		}()
	}
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	o, _, err := e.c.OutpostsAPI.OutpostsInstancesRetrieve(e.ctx, outpost).Execute()
	if err != nil {
		t.Fatalf("retrieve: %v", err)
	}
	hasMine, hasTheirs := slices.Contains(o.Providers, mine.Pk), slices.Contains(o.Providers, theirs.Pk)
	if len(o.Providers) != 1 || hasMine == hasTheirs {
		t.Errorf("both updates succeeded, so exactly one addition must be lost: providers %v, want one of [%d] or [%d]", o.Providers, mine.Pk, theirs.Pk)
	}
}
