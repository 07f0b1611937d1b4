// Command localreg serves an in-memory OCI registry (go-containerregistry) on loopback.
// Crossplane core pulls function packages from it; nothing is persisted.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "listen address")
	flag.Parse()
	s := &http.Server{Addr: *addr, ReadHeaderTimeout: 5 * time.Second, Handler: registry.New()}
	log.Printf("serving OCI registry on %s", *addr)
	log.Fatal(s.ListenAndServe())
}
