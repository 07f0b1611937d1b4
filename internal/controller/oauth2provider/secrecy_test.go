package oauth2provider

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// logBuffer keeps every line a logger writes, at every verbosity.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) logger() logging.Logger {
	return logging.NewLogrLogger(funcr.New(func(prefix, args string) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.lines = append(b.lines, prefix+" "+args)
	}, funcr.Options{Verbosity: 10}))
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// TestNoSecretInLogsOrStatus runs a resource through create, a rotation of
// its source Secret, drift of the secret in Authentik and a refused update,
// with debug logging on (the managed reconciler then logs every diff), and
// checks that no client secret appears in the log, the resource (spec,
// status, conditions, events' source) or any Authentik error it reports.
func TestNoSecretInLogsOrStatus(t *testing.T) {
	t.Parallel()
	const (
		first   = "first-secret-3f9a1c7e5b"
		rotated = "rotated-secret-8d2e6f0a4c"
	)
	cases := map[string]struct {
		reason string
		source string
		steps  func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) []string
	}{
		"SecretFromItsSource": {
			reason: "The secret read from the source Secret, before and after a rotation, shows up nowhere but in Authentik and the connection Secret.",
			source: first,
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) []string {
				env.Settle(r, cr)
				writeSourceSecret(t, env, rotated)
				// A refused update: the secret differs, and Authentik's
				// answer is an error the resource reports.
				env.Sim.SetFault("providers_oauth2_partial_update", authentiksim.Fault{Status: 400, Times: 1})
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				env.Settle(r, cr)
				return []string{first, rotated}
			},
		},
		"SecretGeneratedByAuthentik": {
			reason: "The secret Authentik generated shows up nowhere but in Authentik and the connection Secret.",
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) []string {
				env.Settle(r, cr)
				return []string{connection(t, env)[v1alpha1.ConnectionClientSecret]}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cr := oauth2Provider()
			if tc.source != "" {
				withSourceSecret(cr)
			}
			env := mrtest.New(t, cr)
			if tc.source != "" {
				env.Create(clientSecret(tc.source))
			}
			var logs logBuffer
			r := env.Reconciler(Kind, append(ReconcilerOptions(env.Kube, env.Connector), managed.WithLogger(logs.logger()))...)
			cr = cr.DeepCopy()
			secrets := tc.steps(t, env, r, cr)

			env.Get(cr)
			if cr.GetCondition(xpv2.TypeReady).Status != corev1.ConditionTrue {
				t.Fatalf("%s\nthe resource is not Ready: %+v", tc.reason, cr.GetCondition(xpv2.TypeSynced))
			}
			if got := connection(t, env)[v1alpha1.ConnectionClientSecret]; got != secrets[len(secrets)-1] {
				t.Fatalf("%s\nthe connection Secret holds another client secret than expected", tc.reason)
			}
			resource, err := json.Marshal(cr)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "External resource differs from desired state") && tc.source != "" {
				t.Errorf("%s\nthe reconciler logged no diff, so the log shows nothing about diffs", tc.reason)
			}
			for _, s := range secrets {
				if s == "" {
					t.Fatalf("%s\nno secret to look for", tc.reason)
				}
				for where, text := range map[string]string{"the log": logs.String(), "the resource": string(resource)} {
					if strings.Contains(text, s) {
						t.Errorf("%s\n%s holds a client secret:\n%s", tc.reason, where, excerpt(text, s))
					}
				}
			}
		})
	}
}

// excerpt shows where s occurs in text, with the secret masked.
func excerpt(text, s string) string {
	i := strings.Index(text, s)
	from, to := max(0, i-120), min(len(text), i+len(s)+40)
	return fmt.Sprintf("...%s...", strings.ReplaceAll(text[from:to], s, "<secret>"))
}
