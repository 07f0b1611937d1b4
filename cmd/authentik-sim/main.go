// Command authentik-sim serves the Authentik API simulator over HTTP, for
// end-to-end tests of provider-authentik where no real Authentik can run.
//
//	authentik-sim --listen 127.0.0.1:9000 --token t [--schema openapi.yaml | --no-schema] \
//	    [--authentik-version 2025.10] [--seed 1] [--state-file state.jsonl] [--fault providers_proxy_update:status=503,times=2 ...]
//
// It prints the URL it serves on one line, serves until SIGINT or SIGTERM,
// and exits non-zero if any request or response broke Authentik's OpenAPI
// schema while it ran.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
)

const (
	errParseFlags = "cannot parse flags"
	errNewSim     = "cannot start the simulator"
	errListen     = "cannot listen"
	errServe      = "cannot serve"
	errShutdown   = "cannot shut down cleanly"
	errFault      = "cannot parse --fault"
	errViolations = "requests or responses broke the Authentik schema"

	// shutdownGrace bounds how long in-flight requests (a latency fault,
	// say) may delay exit.
	shutdownGrace = 5 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "authentik-sim:", err)
		os.Exit(1)
	}
}

// run serves the simulator until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	app := kingpin.New("authentik-sim", "Simulates the Authentik API that provider-authentik uses, as one release line answers it, checked against Authentik's OpenAPI schema.")
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)
	listen := app.Flag("listen", "Address to serve on.").Default("127.0.0.1:9000").String()
	token := app.Flag("token", "API token clients must send as a Bearer token.").Required().String()
	schema := app.Flag("schema", "Authentik OpenAPI schema; default: api/openapi.yaml of the goauthentik.io/api/v3 module.").String()
	noSchema := app.Flag("no-schema", "Do not check requests and responses against the schema.").Bool()
	version := app.Flag("authentik-version", "Authentik release line to answer as: "+strings.Join(authentiksim.LineNames(), ", ")+".").Default(authentiksim.DefaultVersion).String()
	seed := app.Flag("seed", "Seed for generated ids and fault draws.").Default("0").Int64()
	stateFile := app.Flag("state-file", "Keep the state in this file across restarts: its writes are replayed at start and every new write is added (use the same --seed).").String()
	faults := app.Flag("fault", "Inject a fault: OPERATION_ID:status=503,latency=200ms,drop,probability=0.5,times=2,after. Repeatable.").Strings()
	if _, err := app.Parse(args); err != nil {
		return errors.Wrap(err, errParseFlags)
	}

	sim, err := authentiksim.New(authentiksim.Options{Token: *token, SchemaPath: *schema, DisableSchema: *noSchema, Seed: *seed, AuthentikVersion: *version, StateFile: *stateFile})
	if err != nil {
		return errors.Wrap(err, errNewSim)
	}
	for _, spec := range *faults {
		op, f, err := parseFault(spec)
		if err != nil {
			return errors.Wrap(err, errFault)
		}
		sim.SetFault(op, f)
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		return errors.Wrap(err, errListen)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "authentik-sim listening on http://%s\n", ln.Addr())
	fmt.Fprintf(stderr, "authentik-sim answers as Authentik %s\n", sim.Line().Release)

	select {
	case err := <-served:
		return errors.Wrap(err, errServe)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return errors.Wrap(err, errShutdown)
	}
	if err := sim.Close(); err != nil {
		return err
	}
	if vs := sim.Violations(); len(vs) > 0 {
		for _, v := range vs {
			fmt.Fprintln(stderr, v)
		}
		return errors.Errorf("%d %s", len(vs), errViolations)
	}
	return nil
}

// parseFault reads OPERATION_ID:key=value,... into a Fault.
func parseFault(spec string) (string, authentiksim.Fault, error) {
	var f authentiksim.Fault
	op, opts, ok := strings.Cut(spec, ":")
	if !ok || op == "" {
		return "", f, errors.Errorf("%q: want OPERATION_ID:key=value[,key=value]", spec)
	}
	for _, opt := range strings.Split(opts, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(opt), "=")
		var err error
		switch key {
		case "status":
			f.Status, err = strconv.Atoi(value)
		case "latency":
			f.Latency, err = time.ParseDuration(value)
		case "drop":
			f.Drop = true
		case "after":
			f.AfterHandler = true
		case "probability":
			f.Probability, err = strconv.ParseFloat(value, 64)
		case "times":
			f.Times, err = strconv.Atoi(value)
		default:
			err = errors.Errorf("unknown key %q", key)
		}
		if err != nil {
			return "", f, errors.Wrapf(err, "%q", spec)
		}
	}
	return op, f, nil
}
