// Command incluster checks, from inside a pod, that the in-cluster
// configuration reaches the API server through the kubernetes Service: it
// prints the server's version and who the pod's ServiceAccount token makes
// it, and what the cluster DNS answers for the Service's name, then stays up
// until it is stopped, so that the pod stays Running.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := check(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "incluster:", err)
		os.Exit(1)
	}
	<-ctx.Done()
}

// check prints the API server's address, version and the caller's user.
func check(ctx context.Context) error {
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return fmt.Errorf("cannot load the in-cluster configuration: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("cannot make a client: %w", err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return fmt.Errorf("cannot get the server version from %s: %w", cfg.Host, err)
	}
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("cannot review who this pod is: %w", err)
	}
	fmt.Printf("in-cluster: %s answers %s; this pod is %s\n", cfg.Host, v.GitVersion, r.Status.UserInfo.Username)
	addrs, err := net.DefaultResolver.LookupHost(ctx, "kubernetes.default.svc")
	if err != nil {
		return fmt.Errorf("cannot resolve the kubernetes Service's name: %w", err)
	}
	fmt.Printf("dns: kubernetes.default.svc is %s\n", strings.Join(addrs, ","))
	return nil
}
