package config

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

const (
	// checkTimeout bounds one health check, whatever the config's request
	// timeout: a check that hangs must not hold the controller's worker.
	checkTimeout = 30 * time.Second
	// permissionsRecheck is how long the permissions found are kept while a
	// config's URL and token stay the same: asking costs one request per
	// kind the provider creates.
	permissionsRecheck = time.Hour

	errGetConfig    = "cannot get the provider config"
	errUpdateHealth = "cannot update the provider config's status"
	errListConfigs  = "cannot list provider configs"
)

// A checkedConfig is a provider config whose status records the Authentik
// version.
type checkedConfig interface {
	resource.ProviderConfig
	GetAuthentikVersion() string
	SetAuthentikVersion(v string)
}

// A HealthReconciler checks, for each provider config of one kind, that
// Authentik answers at its URL, accepts its token and runs a supported
// version, and records that in the config's conditions. It runs beside
// crossplane-runtime's usage reconciler, which owns the users count.
type HealthReconciler struct {
	kube      client.Client
	conn      *authentik.Connector
	newConfig func() checkedConfig
	poll      time.Duration
	log       logging.Logger
	unmanaged *unmanagedCounter

	permsMu sync.Mutex
	perms   map[string]permissions
}

// permissions are what the last permission check of a config found.
type permissions struct {
	// checked is false when the check was not made (Authentik could not
	// be used) or could not tell (err).
	checked bool
	missing []string
	err     error
	// fingerprint is of the URL and token asked, at.
	fingerprint [sha256.Size]byte
	at          time.Time
}

// newHealthReconciler returns a HealthReconciler for the config kind that
// newConfig makes, checking again every poll.
func newHealthReconciler(kube client.Client, conn *authentik.Connector, newConfig func() checkedConfig, poll time.Duration, log logging.Logger) *HealthReconciler {
	return &HealthReconciler{kube: kube, conn: conn, newConfig: newConfig, poll: poll, log: log, unmanaged: newUnmanagedCounter(kube, conn), perms: map[string]permissions{}}
}

// Reconcile checks one provider config and records what it found. The
// status is written only when it changed, so a healthy config costs three
// requests to Authentik per poll interval (the version, and one list each
// of proxy providers and applications for the unmanaged-objects metric)
// and no write; the permission probes add one request per kind the
// provider creates, only when check asks them again.
func (r *HealthReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pc := r.newConfig()
	key := req.String()
	if err := r.kube.Get(ctx, req.NamespacedName, pc); err != nil {
		if kerrors.IsNotFound(err) {
			r.forget(key)
		}
		return reconcile.Result{}, errors.Wrap(resource.IgnoreNotFound(err), errGetConfig)
	}
	if meta.WasDeleted(pc) {
		r.forget(key)
		return reconcile.Result{}, nil
	}
	before := pc.DeepCopyObject().(checkedConfig) //nolint:forcetypeassert // A deep copy has the type of its original.

	checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
	h, perms, cfgErr := r.check(checkCtx, key, pc)
	cancel()
	version, conds := healthConditions(h, perms, cfgErr)
	pc.SetAuthentikVersion(version)
	for i := range conds {
		conds[i] = conds[i].WithObservedGeneration(pc.GetGeneration())
	}
	pc.SetConditions(conds...)
	r.record(ctx, key, pc, h, cfgErr)

	if equality.Semantic.DeepEqual(before, pc) {
		return reconcile.Result{RequeueAfter: r.poll}, nil
	}
	r.log.Debug("Provider config health changed", "config", req.NamespacedName, "ready", pc.GetCondition(xpv2.TypeReady).Reason, "version", version)
	if err := r.kube.Status().Update(ctx, pc); err != nil {
		return reconcile.Result{}, errors.Wrap(err, errUpdateHealth)
	}
	return reconcile.Result{RequeueAfter: r.poll}, nil
}

// check reads the config's credentials and asks Authentik. A config that
// cannot be used (missing Secret, credentials it may not read) is reported
// as such and Authentik is not asked. The token's permissions are asked
// once Authentik accepts it, again when the URL or token changes, after a
// check that could not tell, and otherwise every permissionsRecheck.
func (r *HealthReconciler) check(ctx context.Context, key string, pc checkedConfig) (authentik.Health, permissions, error) {
	cfg, err := r.conn.ConfigFor(ctx, pc)
	if err != nil {
		return authentik.Health{}, permissions{}, err
	}
	ac, err := r.conn.NewClient(cfg)
	if err != nil {
		return authentik.Health{}, permissions{}, err
	}
	h := ac.CheckHealth(ctx)
	if !h.Usable() {
		return h, permissions{}, nil
	}
	fp := sha256.Sum256([]byte(cfg.URL + "\x00" + cfg.Token))
	r.permsMu.Lock()
	last, ok := r.perms[key]
	r.permsMu.Unlock()
	if ok && last.checked && last.fingerprint == fp && time.Since(last.at) < permissionsRecheck {
		return h, last, nil
	}
	missing, err := ac.MissingPermissions(ctx)
	p := permissions{checked: err == nil, missing: missing, err: err, fingerprint: fp, at: time.Now()}
	r.permsMu.Lock()
	r.perms[key] = p
	r.permsMu.Unlock()
	return h, p, nil
}

// healthConditions turns a check's findings into the version to record and
// the config's conditions.
func healthConditions(h authentik.Health, perms permissions, cfgErr error) (string, []xpv2.Condition) {
	version, conds := reachConditions(h, cfgErr)
	now := metav1.Now()
	permitted := xpv2.Condition{Type: v1alpha1.TypeTokenPermitted, Status: corev1.ConditionUnknown, Reason: v1alpha1.ReasonNotChecked, Message: "Authentik cannot be used with this config", LastTransitionTime: now}
	switch {
	case perms.err != nil:
		permitted.Message = perms.err.Error()
	case !perms.checked:
	case len(perms.missing) > 0:
		msg := fmt.Sprintf("Authentik refuses the token's user %s (403 to a create): grant them through one of its roles, or use a token of a superuser", strings.Join(perms.missing, ", "))
		permitted = xpv2.Condition{Type: v1alpha1.TypeTokenPermitted, Status: corev1.ConditionFalse, Reason: v1alpha1.ReasonPermissionMissing, Message: msg, LastTransitionTime: now}
		for i := range conds {
			if conds[i].Type == xpv2.TypeReady && conds[i].Status == corev1.ConditionTrue {
				conds[i] = xpv2.Condition{Type: xpv2.TypeReady, Status: corev1.ConditionFalse, Reason: v1alpha1.ReasonPermissionMissing, Message: msg, LastTransitionTime: now}
			}
		}
	default:
		permitted = xpv2.Condition{Type: v1alpha1.TypeTokenPermitted, Status: corev1.ConditionTrue, Reason: v1alpha1.ReasonPermissionsGranted, Message: "the token may create every kind the provider manages", LastTransitionTime: now}
	}
	return version, append(conds, permitted)
}

// reachConditions are the conditions of reaching Authentik: Ready,
// AuthentikReachable, TokenAccepted and VersionSupported.
func reachConditions(h authentik.Health, cfgErr error) (string, []xpv2.Condition) {
	now := metav1.Now()
	cond := func(t xpv2.ConditionType, s corev1.ConditionStatus, r xpv2.ConditionReason, msg string) xpv2.Condition {
		return xpv2.Condition{Type: t, Status: s, Reason: r, Message: msg, LastTransitionTime: now}
	}
	notChecked := func(t xpv2.ConditionType, why string) xpv2.Condition {
		return cond(t, corev1.ConditionUnknown, v1alpha1.ReasonNotChecked, why)
	}
	notReady := func(r xpv2.ConditionReason, msg string) xpv2.Condition {
		return cond(xpv2.TypeReady, corev1.ConditionFalse, r, msg)
	}

	if cfgErr != nil {
		msg := cfgErr.Error()
		return "", []xpv2.Condition{
			notReady(v1alpha1.ReasonConfigInvalid, msg),
			notChecked(v1alpha1.TypeAuthentikReachable, "the config cannot be used"),
			notChecked(v1alpha1.TypeTokenAccepted, "the config cannot be used"),
			notChecked(v1alpha1.TypeVersionSupported, "the config cannot be used"),
		}
	}
	if h.Unreachable != nil {
		msg := h.Problem()
		return "", []xpv2.Condition{
			notReady(v1alpha1.ReasonUnreachable, msg),
			cond(v1alpha1.TypeAuthentikReachable, corev1.ConditionFalse, v1alpha1.ReasonUnreachable, msg),
			notChecked(v1alpha1.TypeTokenAccepted, "Authentik is unreachable"),
			notChecked(v1alpha1.TypeVersionSupported, "Authentik is unreachable"),
		}
	}
	reachable := cond(v1alpha1.TypeAuthentikReachable, corev1.ConditionTrue, v1alpha1.ReasonReachable, fmt.Sprintf("Authentik answers at %s", h.URL))
	if h.TokenRefused != "" {
		msg := h.Problem()
		return "", []xpv2.Condition{
			notReady(v1alpha1.ReasonTokenRefused, msg),
			reachable,
			cond(v1alpha1.TypeTokenAccepted, corev1.ConditionFalse, v1alpha1.ReasonTokenRefused, msg),
			notChecked(v1alpha1.TypeVersionSupported, "Authentik refused the token"),
		}
	}
	accepted := cond(v1alpha1.TypeTokenAccepted, corev1.ConditionTrue, v1alpha1.ReasonTokenAccepted, "Authentik accepts the token")
	if h.Version == "" {
		msg := fmt.Sprintf("cannot tell which Authentik version answers: %v; the provider supports %s to %s", h.VersionUnknown, authentik.OldestSupportedVersion, authentik.NewestSupportedVersion)
		return "", []xpv2.Condition{
			cond(xpv2.TypeReady, corev1.ConditionTrue, xpv2.ReasonAvailable, fmt.Sprintf("Authentik at %s accepts the token; its version is unknown", h.URL)),
			reachable,
			accepted,
			cond(v1alpha1.TypeVersionSupported, corev1.ConditionUnknown, v1alpha1.ReasonVersionUnknown, msg),
		}
	}
	if err := authentik.CheckVersion(h.Version); err != nil {
		msg := err.Error()
		return h.Version, []xpv2.Condition{
			notReady(v1alpha1.ReasonUnsupportedVersion, msg),
			reachable,
			accepted,
			cond(v1alpha1.TypeVersionSupported, corev1.ConditionFalse, v1alpha1.ReasonUnsupportedVersion, msg),
		}
	}
	return h.Version, []xpv2.Condition{
		cond(xpv2.TypeReady, corev1.ConditionTrue, xpv2.ReasonAvailable, fmt.Sprintf("Authentik %s at %s accepts the token", h.Version, h.URL)),
		reachable,
		accepted,
		cond(v1alpha1.TypeVersionSupported, corev1.ConditionTrue, v1alpha1.ReasonSupportedVersion,
			fmt.Sprintf("Authentik %s is in the supported range %s to %s", h.Version, authentik.OldestSupportedVersion, authentik.NewestSupportedVersion)),
	}
}

// configsUsingSecret returns the configs of kind k that read the Secret s,
// so a changed token or CA bundle is checked at once.
func configsUsingSecret(ctx context.Context, kube client.Client, k Kind, s client.Object) ([]reconcile.Request, error) {
	list := k.NewList()
	var opts []client.ListOption
	if k.Namespaced {
		opts = append(opts, client.InNamespace(s.GetNamespace()))
	}
	if err := kube.List(ctx, list, opts...); err != nil {
		return nil, errors.Wrap(err, errListConfigs)
	}
	secret := types.NamespacedName{Namespace: s.GetNamespace(), Name: s.GetName()}
	var out []reconcile.Request
	for _, pc := range k.Items(list) {
		if slices.Contains(authentik.SecretsOf(pc), secret) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: pc.GetNamespace(), Name: pc.GetName()}})
		}
	}
	return out, nil
}
