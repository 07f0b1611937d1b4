package mrtest

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

// CheckLostCreateAdopted makes Authentik lose its answer to the next
// createOp (e.g. "core_groups_create") after it made the object, and
// reconciles cr once: the resource must be marked create-unconfirmed. It
// then settles cr, which must adopt the object and drop the mark.
func (e *Env) CheckLostCreateAdopted(r reconcile.Reconciler, cr resource.Managed, createOp string) {
	e.T.Helper()
	e.Sim.SetFault(createOp, authentiksim.Fault{Status: 502, AfterHandler: true, Times: 1})
	if _, err := e.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
		e.T.Fatal(err)
	}
	e.Get(cr)
	if _, ok := cr.GetAnnotations()[mrbehavior.AnnotationCreateUnconfirmed]; !ok {
		e.T.Errorf("a lost create answer did not mark the resource %s", mrbehavior.AnnotationCreateUnconfirmed)
	}
	e.Settle(r, cr)
	if _, ok := cr.GetAnnotations()[mrbehavior.AnnotationCreateUnconfirmed]; ok {
		e.T.Errorf("%s is still set after adoption", mrbehavior.AnnotationCreateUnconfirmed)
	}
}

// CheckObserveOnlyImport creates cr, an Observe-only resource naming an
// object that exists in Authentik, settles it and checks it is Ready, runs
// observed for the kind's own checks of what cr now shows, then deletes cr.
// cr must only have read Authentik, and read must still return the object
// as before, what read returned before cr existed.
func CheckObserveOnlyImport[T any](e *Env, r reconcile.Reconciler, cr resource.Managed, observed func(), before T, read func() (T, error)) {
	e.T.Helper()
	e.Create(cr)
	e.Sim.ResetCounts()
	e.Settle(r, cr)
	if got := cr.GetCondition(xpv2.TypeReady).Status; got != corev1.ConditionTrue {
		e.T.Errorf("Ready = %s, want True: %+v", got, cr.GetCondition(xpv2.TypeSynced))
	}
	observed()
	e.Delete(cr)
	e.SettleDeletion(r, cr)

	for op, n := range e.Sim.Counts() {
		if n > 0 && !strings.HasSuffix(op, "_retrieve") && !strings.HasSuffix(op, "_list") {
			e.T.Errorf("an Observe-only resource called %s %d times", op, n)
		}
	}
	after, err := read()
	if err != nil {
		e.T.Fatalf("the imported object is gone after deleting its Observe-only resource: %v", err)
	}
	if diff := cmp.Diff(asJSONValue(e.T, before), asJSONValue(e.T, after)); diff != "" {
		e.T.Errorf("the imported object changed (-before, +after):\n%s", diff)
	}
}

// ExternalPK is the numeric pk a provider resource records as its
// external name.
func ExternalPK(t testing.TB, cr resource.Managed) int32 {
	t.Helper()
	pk, err := strconv.ParseInt(meta.GetExternalName(cr), 10, 32)
	if err != nil {
		t.Fatalf("external name %q is not a pk: %v", meta.GetExternalName(cr), err)
	}
	return int32(pk)
}

// asJSONValue is v as Authentik sends it: API objects hold fields cmp cannot
// see, lists of pks need no map.
func asJSONValue(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// CheckBadExternalName checks that observe, a kind's external client's
// Observe, refuses cr, whose external name is not the kind's key, with an
// error holding msg.
func CheckBadExternalName[T resource.Managed](t *testing.T, observe func(context.Context, T) (managed.ExternalObservation, error), cr T, msg string) {
	t.Helper()
	if _, err := observe(context.Background(), cr); err == nil || !strings.Contains(err.Error(), msg) {
		t.Errorf("Observe with the external name %q: error %v, want one saying %q", meta.GetExternalName(cr), err, msg)
	}
}
