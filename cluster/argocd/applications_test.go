package argocd

import (
	"os"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

const (
	applicationsDir = root + "examples/argocd/applications/"
	fluxDir         = root + "examples/gitops/"
)

// An application is the part of Argo CD's Application the checks read.
type application struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Source struct {
			Path string `json:"path"`
		} `json:"source"`
		SyncPolicy struct {
			Automated *struct {
				Prune bool `json:"prune"`
			} `json:"automated"`
			Retry *struct {
				Limit int `json:"limit"`
			} `json:"retry"`
		} `json:"syncPolicy"`
	} `json:"spec"`
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestApplicationsMirrorFlux checks that the Applications apply what
// examples/gitops' Flux Kustomizations apply, folder for folder, and retry
// until the step before them is in (Argo CD has no dependsOn).
func TestApplicationsMirrorFlux(t *testing.T) {
	k := struct {
		Resources []string `json:"resources"`
	}{}
	readYAML(t, applicationsDir+"kustomization.yaml", &k)
	var got []string
	for _, r := range k.Resources {
		a := application{}
		readYAML(t, applicationsDir+r, &a)
		if a.APIVersion != "argoproj.io/v1alpha1" || a.Kind != "Application" {
			t.Errorf("%s is a %s %s, want an argoproj.io/v1alpha1 Application", r, a.APIVersion, a.Kind)
		}
		if a.Spec.SyncPolicy.Automated == nil || !a.Spec.SyncPolicy.Automated.Prune {
			t.Errorf("%s: syncs by hand or does not prune; Flux's Kustomizations do both", r)
		}
		if a.Spec.SyncPolicy.Retry == nil || a.Spec.SyncPolicy.Retry.Limit == 0 {
			t.Errorf("%s: no retry; a step applied before the one it needs must try again", r)
		}
		if _, err := os.Stat(path.Join(fluxDir, a.Spec.Source.Path, "kustomization.yaml")); err != nil {
			t.Errorf("%s: path %q is no folder of examples/gitops: %v", r, a.Spec.Source.Path, err)
		}
		got = append(got, a.Metadata.Name+" "+a.Spec.Source.Path)
	}

	clusters, err := os.ReadDir(fluxDir + "clusters/homelab")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range clusters {
		f := struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Path string `json:"path"`
			} `json:"spec"`
		}{}
		readYAML(t, fluxDir+"clusters/homelab/"+c.Name(), &f)
		want = append(want, f.Metadata.Name+" "+strings.TrimPrefix(f.Spec.Path, "./"))
	}
	sort.Strings(got)
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Applications (name path) against Flux's Kustomizations, -want +got:\n%s", diff)
	}

	r := application{}
	readYAML(t, root+"examples/argocd/root.yaml", &r)
	if r.Spec.Source.Path != "argocd/applications" {
		t.Errorf("root.yaml syncs %q, want argocd/applications (examples/argocd/applications in the user's repository)", r.Spec.Source.Path)
	}
}
