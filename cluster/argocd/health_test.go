package argocd

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

const (
	root         = "../../"
	argocdCMFile = root + "examples/argocd/argocd-cm.yaml"
)

// An override is the part of Argo CD's ResourceOverride the checks use, as
// argocd-cm's resource.customizations spells it.
type override struct {
	HealthLua   string `json:"health.lua"`
	UseOpenLibs bool   `json:"health.lua.useOpenLibs"`
}

// A health is what a health script returns.
type health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// customizations reads resource.customizations from argocd-cm.yaml, keyed
// by group/kind as Argo CD keys them.
func customizations(t *testing.T) map[string]override {
	t.Helper()
	b, err := os.ReadFile(argocdCMFile)
	if err != nil {
		t.Fatal(err)
	}
	cm := struct {
		Data map[string]string `json:"data"`
	}{}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		t.Fatal(err)
	}
	out := map[string]override{}
	if err := yaml.UnmarshalStrict([]byte(cm.Data["resource.customizations"]), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// scriptFor picks the health script Argo CD would run for group/kind: the
// key as it is, else a wildcard key that matches it.
func scriptFor(t *testing.T, cs map[string]override, group, kind string) override {
	t.Helper()
	key := group + "/" + kind
	if o, ok := cs[key]; ok && o.HealthLua != "" {
		return o
	}
	keys := make([]string, 0, len(cs))
	for k := range cs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ok, err := path.Match(k, key); err == nil && ok && cs[k].HealthLua != "" {
			return cs[k]
		}
	}
	return override{}
}

// toLua converts a decoded JSON value to Lua, as Argo CD hands the object
// to a script in the global obj.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, e := range v {
			t.Append(toLua(l, e))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, e := range v {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	}
	return lua.LNil
}

// runHealth runs script on obj in a Lua state set up as Argo CD sets one up
// for a customization: no standard library unless the customization asks
// for it, then package, base and table.
func runHealth(t *testing.T, o override, obj map[string]any) health {
	t.Helper()
	l := lua.NewState(lua.Options{SkipOpenLibs: !o.UseOpenLibs})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			t.Fatal(err)
		}
	}
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(o.HealthLua); err != nil {
		t.Fatalf("the health script failed: %v", err)
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the health script returned a %s, want a table", l.Get(-1).Type())
	}
	return health{Status: lua.LVAsString(ret.RawGetString("status")), Message: lua.LVAsString(ret.RawGetString("message"))}
}

func object(t *testing.T, s string) map[string]any {
	t.Helper()
	o := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestHealthChecks(t *testing.T) {
	cs := customizations(t)
	cases := map[string]struct {
		reason string
		obj    string
		want   health
	}{
		"ProxyConfigRestricted": {
			reason: "A Ready ProxyConfig is Healthy and says who can get in.",
			obj: `{apiVersion: gitops.io/v1, kind: ProxyConfig, metadata: {name: p},
  status: {access: restricted to storage-admins, conditions: [{type: Synced, status: "True", reason: ReconcileSuccess}, {type: Ready, status: "True", reason: Available}]}}`,
			want: health{Status: "Healthy", Message: "restricted to storage-admins"},
		},
		"ProxyConfigNew": {
			reason: "A ProxyConfig Crossplane has not composed yet is Progressing, not Healthy.",
			obj:    `{apiVersion: gitops.io/v1, kind: ProxyConfig, metadata: {name: p}}`,
			want:   health{Status: "Progressing", Message: "Waiting for Crossplane to compose it"},
		},
		"ProxyConfigGroupMissing": {
			reason: "A ProxyConfig whose group binding is not Ready is Progressing and says why it is not served.",
			obj: `{apiVersion: gitops.io/v1, kind: ProxyConfig, metadata: {name: p},
  status: {access: not served, accessReason: 'no outpost serves it until every allowed group is bound: group "x": no Authentik group is named "x"',
    conditions: [{type: Synced, status: "True", reason: ReconcileSuccess}, {type: Ready, status: "False", reason: Creating, message: "Unready resources: policybinding-x"}]}}`,
			want: health{Status: "Progressing", Message: `not served: no outpost serves it until every allowed group is bound: group "x": no Authentik group is named "x"`},
		},
		"ProxyConfigReadyNotServed": {
			reason: "A ProxyConfig Crossplane calls Ready that no outpost serves is not Healthy.",
			obj: `{apiVersion: gitops.io/v1, kind: ProxyConfig, metadata: {name: p},
  status: {access: not served, accessReason: waiting for the application and the outpost binding to be Ready, conditions: [{type: Ready, status: "True", reason: Available}]}}`,
			want: health{Status: "Progressing", Message: "not served: waiting for the application and the outpost binding to be Ready"},
		},
		"ProxyConfigNotManaged": {
			reason: "A ProxyConfig that may not take over what Authentik has is Degraded: it needs a person.",
			obj: `{apiVersion: gitops.io/v1, kind: ProxyConfig, metadata: {name: p},
  status: {access: not managed, accessReason: 'proxyprovider: a proxy provider named "p" exists', conditions: [{type: Ready, status: "False", reason: Creating}]}}`,
			want: health{Status: "Degraded", Message: `not managed: proxyprovider: a proxy provider named "p" exists`},
		},
		"ProxyConfigRouteNotProtected": {
			reason: "A ProxyConfig whose route does not ask the outpost is Degraded, whatever Authentik enforces: the route is open.",
			obj: `{apiVersion: gitops.io/v1, kind: ProxyConfig, metadata: {name: p, annotations: {authentik.m.crossplane.io/route-not-protected: "the Ingress does not ask Authentik's outpost"}},
  status: {access: restricted to admins, conditions: [{type: Ready, status: "True"}]}}`,
			want: health{Status: "Degraded", Message: "the Ingress does not ask Authentik's outpost"},
		},
		"ProxyConfigCompositionFails": {
			reason: "A ProxyConfig whose composition fails is Degraded with Crossplane's message.",
			obj: `{apiVersion: gitops.io/v1, kind: ProxyConfig, metadata: {name: p},
  status: {conditions: [{type: Synced, status: "False", reason: ReconcileError, message: "cannot compose resources: function failed"}]}}`,
			want: health{Status: "Degraded", Message: "cannot compose resources: function failed"},
		},
		"ProxyConfigPaused": {
			reason: "A paused ProxyConfig is Suspended.",
			obj: `{apiVersion: gitops.io/v1, kind: ProxyConfig, metadata: {name: p},
  status: {conditions: [{type: Synced, status: "False", reason: ReconcilePaused}]}}`,
			want: health{Status: "Suspended", Message: "ReconcilePaused"},
		},
		"OIDCConfigRestricted": {
			reason: "A Ready OIDCConfig is Healthy and says who can log in.",
			obj: `{apiVersion: gitops.io/v1, kind: OIDCConfig, metadata: {name: o},
  status: {access: open to every user, conditions: [{type: Synced, status: "True"}, {type: Ready, status: "True"}]}}`,
			want: health{Status: "Healthy", Message: "open to every user"},
		},
		"OIDCConfigWithheld": {
			reason: "An OIDCConfig whose application waits for its bindings is Progressing.",
			obj: `{apiVersion: gitops.io/v1, kind: OIDCConfig, metadata: {name: o},
  status: {access: not served, accessReason: the application gets its provider once every allowed group is bound, conditions: [{type: Ready, status: "False", reason: Creating}]}}`,
			want: health{Status: "Progressing", Message: "not served: the application gets its provider once every allowed group is bound"},
		},
		"OIDCConfigCompositionFails": {
			reason: "An OIDCConfig whose composition fails is Degraded.",
			obj: `{apiVersion: gitops.io/v1, kind: OIDCConfig, metadata: {name: o},
  status: {conditions: [{type: Synced, status: "False", reason: ReconcileError, message: "cannot render"}, {type: Ready, status: "False", reason: Creating}]}}`,
			want: health{Status: "Degraded", Message: "cannot render"},
		},
		"ManagedReady": {
			reason: "A managed resource Ready and Synced is Healthy.",
			obj: `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: ProxyProvider, metadata: {name: m},
  status: {conditions: [{type: Ready, status: "True", reason: Available}, {type: Synced, status: "True", reason: ReconcileSuccess}]}}`,
			want: health{Status: "Healthy", Message: "Available"},
		},
		"ManagedCreating": {
			reason: "A managed resource being created is Progressing.",
			obj: `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: Application, metadata: {name: m},
  status: {conditions: [{type: Ready, status: "False", reason: Creating}, {type: Synced, status: "True", reason: ReconcileSuccess}]}}`,
			want: health{Status: "Progressing", Message: "Creating"},
		},
		"ManagedWithheld": {
			reason: "An Application withholding its provider (Unavailable) waits for its bindings: Progressing, saying why.",
			obj: `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: Application, metadata: {name: m},
  status: {conditions: [{type: Ready, status: "False", reason: Unavailable, message: waiting for the required groups' bindings}, {type: Synced, status: "True"}]}}`,
			want: health{Status: "Progressing", Message: "waiting for the required groups' bindings"},
		},
		"ManagedNotObserved": {
			reason: "A managed resource the provider has not observed yet is Progressing.",
			obj:    `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: Group, metadata: {name: m}}`,
			want:   health{Status: "Progressing", Message: "Waiting for the provider to observe it"},
		},
		"ManagedRefused": {
			reason: "A managed resource Authentik refuses is Degraded with what it refused, even if it was Ready before.",
			obj: `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: PolicyBinding, metadata: {name: m},
  status: {conditions: [{type: Ready, status: "True", reason: Available}, {type: Synced, status: "False", reason: ReconcileError, message: 'no Authentik group is named "x" (spec.forProvider.groupName)'}]}}`,
			want: health{Status: "Degraded", Message: `no Authentik group is named "x" (spec.forProvider.groupName)`},
		},
		"ManagedPaused": {
			reason: "A paused managed resource is Suspended.",
			obj: `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: Outpost, metadata: {name: m},
  status: {conditions: [{type: Synced, status: "False", reason: ReconcilePaused, message: Reconciliation is paused via the pause annotation}]}}`,
			want: health{Status: "Suspended", Message: "Reconciliation is paused via the pause annotation"},
		},
		"ClusterProviderConfigHealthy": {
			reason: "A provider config whose check passed is Healthy.",
			obj: `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: ClusterProviderConfig, metadata: {name: default},
  status: {conditions: [{type: Ready, status: "True", reason: Available, message: Authentik 2026.5.1 at http://a accepts the token}, {type: TokenAccepted, status: "True"}]}}`,
			want: health{Status: "Healthy", Message: "Authentik 2026.5.1 at http://a accepts the token"},
		},
		"ProviderConfigTokenRefused": {
			reason: "A provider config whose token Authentik refuses is Degraded, naming the reason.",
			obj: `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: ProviderConfig, metadata: {name: team, namespace: a},
  status: {conditions: [{type: Ready, status: "False", reason: TokenRefused, message: "Authentik refused the token: Token invalid/expired"}]}}`,
			want: health{Status: "Degraded", Message: "TokenRefused: Authentik refused the token: Token invalid/expired"},
		},
		"ProviderConfigNotChecked": {
			reason: "A provider config not checked yet is Progressing.",
			obj:    `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: ProviderConfig, metadata: {name: team, namespace: a}, status: {users: 2}}`,
			want:   health{Status: "Progressing", Message: "Waiting for the provider's health check"},
		},
		"ProviderConfigUsage": {
			reason: "A ProviderConfigUsage has no status and is Healthy.",
			obj:    `{apiVersion: authentik.m.crossplane.io/v1alpha1, kind: ProviderConfigUsage, metadata: {name: u, namespace: a}}`,
			want:   health{Status: "Healthy", Message: "Records that a resource uses a provider config"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := object(t, tc.obj)
			group, _, _ := strings.Cut(obj["apiVersion"].(string), "/") //nolint:forcetypeassert // Every case has one.
			o := scriptFor(t, cs, group, obj["kind"].(string))          //nolint:forcetypeassert // Every case has one.
			if o.HealthLua == "" {
				t.Fatalf("no health check in %s for %s %s", argocdCMFile, group, obj["kind"])
			}
			if diff := cmp.Diff(tc.want, runHealth(t, o, obj)); diff != "" {
				t.Errorf("%s\nhealth, -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestEveryKindHasAHealthCheck checks that every kind of our CRDs and XRDs
// has a health check, so a new kind cannot go without.
func TestEveryKindHasAHealthCheck(t *testing.T) {
	cs := customizations(t)
	var kinds [][2]string
	for _, glob := range []string{"package/provider/crds/*.yaml", "package/configuration/*xrd.yaml"} {
		files, err := filepath.Glob(root + glob)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no file matches %s", glob)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d := struct {
				Spec struct {
					Group string `json:"group"`
					Names struct {
						Kind string `json:"kind"`
					} `json:"names"`
				} `json:"spec"`
			}{}
			if err := yaml.Unmarshal(b, &d); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			kinds = append(kinds, [2]string{d.Spec.Group, d.Spec.Names.Kind})
		}
	}
	for _, k := range kinds {
		o := scriptFor(t, cs, k[0], k[1])
		if o.HealthLua == "" {
			t.Errorf("%s/%s has no health check in %s", k[0], k[1], argocdCMFile)
			continue
		}
		if o.UseOpenLibs {
			t.Errorf("%s/%s: the health check asks for Lua's standard library, which Argo CD closes by default", k[0], k[1])
		}
		// No status yet: the script must not fail on a bare object.
		got := runHealth(t, o, map[string]any{"apiVersion": k[0] + "/v1", "kind": k[1], "metadata": map[string]any{"name": "x"}})
		if got.Status != "Progressing" && got.Status != "Healthy" {
			t.Errorf("%s/%s without a status: %+v, want Progressing (or Healthy for a kind without status)", k[0], k[1], got)
		}
	}
}
