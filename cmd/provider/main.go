// Command provider runs the Authentik Crossplane provider's controllers.
package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/alecthomas/kingpin/v2"
	"github.com/go-logr/logr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	changelogsv1alpha1 "github.com/crossplane/crossplane-runtime/v2/apis/changelogs/proto/v1alpha1"
	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/gate"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/customresourcesgate"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/statemetrics"

	"github.com/gitops-lifecycle/provider-authentik/apis"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	authentikcontroller "github.com/gitops-lifecycle/provider-authentik/internal/controller"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/discovery"
	"github.com/gitops-lifecycle/provider-authentik/internal/version"
)

func main() {
	var (
		app              = kingpin.New(filepath.Base(os.Args[0]), "Crossplane provider for Authentik.").DefaultEnvars()
		debug            = app.Flag("debug", "Run with debug logging.").Short('d').Bool()
		leaderElection   = app.Flag("leader-election", "Use leader election for the controller manager, so that of several replicas only one talks to Authentik.").Short('l').Default("true").Envar("LEADER_ELECTION").Bool()
		leaderElectionNS = app.Flag("leader-election-namespace", "Namespace of the leader election Lease; default: the pod's namespace.").Envar("LEADER_ELECTION_NAMESPACE").String()
		// Crossplane and its providers lead for 60 s and try to renew for 50:
		// with controller-runtime's 15 and 10 a loaded API server that
		// answers a renewal late costs the leader its lease, and the
		// provider stops.
		leaseDuration = app.Flag("leader-election-lease-duration", "How long a replica waits before it takes over from a leader that stopped renewing.").Default("60s").Duration()
		renewDeadline = app.Flag("leader-election-renew-deadline", "How long the leader keeps trying to renew before it gives up leading.").Default("50s").Duration()
		retryPeriod   = app.Flag("leader-election-retry-period", "How often replicas try to acquire or renew the lease.").Default("2s").Duration()

		syncInterval            = app.Flag("sync", "How often all resources are listed again from the API server.").Short('s').Default("1h").Duration()
		pollInterval            = app.Flag("poll", "How often each resource is checked for drift from its desired state in Authentik.").Default("1m").Duration()
		pollStateMetricInterval = app.Flag("poll-state-metric", "How often the managed resource state metrics are recorded.").Default("5s").Duration()
		maxReconcileRate        = app.Flag("max-reconcile-rate", "The most reconciles per second, across all resources.").Default("100").Int()

		metricsBindAddress     = app.Flag("metrics-bind-address", "The address the Prometheus metrics endpoint binds to.").Default(":8080").String()
		healthProbeBindAddress = app.Flag("health-probe-bind-address", "The address the health probe endpoints (/healthz, /readyz) bind to.").Default(":8081").String()
		pprofBindAddress       = app.Flag("pprof-bind-address", "The address Go's profiles (/debug/pprof/) are served on, for example 127.0.0.1:6060; empty serves none.").Default("").String()

		enableManagementPolicies = app.Flag("enable-management-policies", "Enable support for management policies.").Default("true").Envar("ENABLE_MANAGEMENT_POLICIES").Bool()
		enableChangeLogs         = app.Flag("enable-changelogs", "Enable capturing change logs during reconciliation.").Default("false").Envar("ENABLE_CHANGE_LOGS").Bool()
		changelogsSocketPath     = app.Flag("changelogs-socket-path", "Path of the change logs socket, if change logs are enabled.").Default("/var/run/changelogs/changelogs.sock").Envar("CHANGELOGS_SOCKET_PATH").String()

		enableDiscovery = app.Flag("enable-discovery", "Make a ProxyConfig for each Ingress and Gateway API HTTPRoute annotated authentik.m.crossplane.io/proxy: \"true\". Needs RBAC to read Ingresses, HTTPRoutes and Services and to write ProxyConfigs.").Default("false").Envar("ENABLE_DISCOVERY").Bool()
	)
	kingpin.MustParse(app.Parse(os.Args[1:]))

	zl := zap.New(zap.UseDevMode(*debug))
	log := logging.NewLogrLogger(zl.WithName("provider-authentik"))
	if *debug {
		ctrl.SetLogger(zl)
	} else {
		// controller-runtime is very verbose at info level; keep it quiet
		// unless debugging. A discarding logr, not a zap logger writing to
		// io.Discard: that one still holds zap's sampler counters (about
		// half a MiB).
		ctrl.SetLogger(logr.Discard())
	}
	log.Info("Starting provider-authentik", "version", version.Version)

	// The GC collects harder as the Go runtime's memory nears GOMEMLIMIT.
	// Unless GOMEMLIMIT is set (or AUTOMEMLIMIT=off), it is 90 % of the
	// container's memory limit: the rest is for what the runtime does not
	// count, such as the binary's own pages (about 40 MiB).
	if limit, err := memlimit.Set(); err != nil {
		log.Info("Cannot set GOMEMLIMIT from the container's memory limit", "error", err)
	} else if limit < math.MaxInt64 {
		log.Info("Go memory limit", "GOMEMLIMIT", limit)
	}

	cfg, err := ctrl.GetConfig()
	kingpin.FatalIfError(err, "Cannot get the API server's REST config")

	// The cache's options name CustomResourceDefinitions, so the manager's
	// scheme (client-go's) knows them before the manager is made.
	scheme := clientgoscheme.Scheme
	kingpin.FatalIfError(apis.AddToScheme(scheme), "Cannot add the Authentik APIs to the scheme")
	kingpin.FatalIfError(apiextensionsv1.AddToScheme(scheme), "Cannot add CustomResourceDefinitions to the scheme")

	mgr, err := ctrl.NewManager(ratelimiter.LimitRESTConfig(cfg, *maxReconcileRate), ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cacheOptions(syncInterval),
		Metrics:                metricsserver.Options{BindAddress: *metricsBindAddress},
		HealthProbeBindAddress: *healthProbeBindAddress,
		PprofBindAddress:       *pprofBindAddress,

		// Two replicas (a rolling update, or two pods by mistake) must not
		// both edit outposts' provider lists: only the lease holder runs
		// controllers. A leader that stops releases the lease, and one that
		// dies is replaced after the lease duration, so hand-over takes
		// seconds.
		LeaderElection:                *leaderElection,
		LeaderElectionID:              "crossplane-leader-election-provider-authentik",
		LeaderElectionNamespace:       *leaderElectionNS,
		LeaderElectionResourceLock:    resourcelock.LeasesResourceLock,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 leaseDuration,
		RenewDeadline:                 renewDeadline,
		RetryPeriod:                   retryPeriod,
	})
	kingpin.FatalIfError(err, "Cannot create the controller manager")
	kingpin.FatalIfError(mgr.AddHealthzCheck("healthz", healthz.Ping), "Cannot add the health check")
	kingpin.FatalIfError(mgr.AddReadyzCheck("readyz", healthz.Ping), "Cannot add the readiness check")

	metricRecorder := managed.NewMRMetricRecorder()
	stateMetrics := statemetrics.NewMRStateMetrics()
	metrics.Registry.MustRegister(metricRecorder)
	metrics.Registry.MustRegister(stateMetrics)

	// One connector for every controller: they share its flow cache, HTTP
	// transports, outpost list editor and metric states, and read Authentik through lists
	// shared by kind, at most a quarter of a poll old: a change made in
	// Authentik is seen within a poll and a quarter, for a fraction of a
	// request per resource.
	conn := authentik.NewConnector(mgr.GetClient(), *pollInterval/4)
	metrics.Registry.MustRegister(conn.States().Collectors()...)

	o := controller.Options{
		Logger:                  log,
		MaxConcurrentReconciles: *maxReconcileRate,
		PollInterval:            *pollInterval,
		GlobalRateLimiter:       ratelimiter.NewGlobal(*maxReconcileRate),
		Features:                &feature.Flags{},
		Gate:                    new(gate.Gate[schema.GroupVersionKind]),
		MetricOptions: &controller.MetricOptions{
			PollStateMetricInterval: *pollStateMetricInterval,
			MRMetrics:               metricRecorder,
			MRStateMetrics:          stateMetrics,
		},
	}

	if *enableManagementPolicies {
		o.Features.Enable(feature.EnableBetaManagementPolicies)
		log.Info("Beta feature enabled", "flag", feature.EnableBetaManagementPolicies)
	}

	if *enableChangeLogs {
		o.Features.Enable(feature.EnableAlphaChangeLogs)
		log.Info("Alpha feature enabled", "flag", feature.EnableAlphaChangeLogs)

		conn, err := grpc.NewClient("unix://"+*changelogsSocketPath, grpc.WithTransportCredentials(insecure.NewCredentials()))
		kingpin.FatalIfError(err, "Cannot connect to the change logs socket at %s", *changelogsSocketPath)
		o.ChangeLogOptions = &controller.ChangeLogOptions{
			ChangeLogger: managed.NewGRPCChangeLogger(
				changelogsv1alpha1.NewChangeLogServiceClient(conn),
				managed.WithProviderVersion(fmt.Sprintf("provider-authentik:%s", version.Version))),
		}
	}

	kingpin.FatalIfError(customresourcesgate.Setup(mgr, o), "Cannot set up the CRD gate controller")
	kingpin.FatalIfError(authentikcontroller.SetupGated(mgr, o, conn), "Cannot set up the Authentik controllers")
	// Off, discovery registers nothing: no route or ProxyConfig watches.
	if *enableDiscovery {
		kingpin.FatalIfError(discovery.Setup(mgr, o), "Cannot set up route discovery")
	} else {
		log.Info("Route discovery is off: --enable-discovery not given")
	}
	kingpin.FatalIfError(mgr.Start(ctrl.SetupSignalHandler()), "Cannot start the controller manager")
}
