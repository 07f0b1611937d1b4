package argocd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// argoCDNames are the names kubectl resolves to Argo CD's own kinds
// (Application, ApplicationSet, AppProject: plural, singular, short names).
var argoCDNames = map[string]bool{
	"applications": true, "application": true, "app": true, "apps": true,
	"applicationsets": true, "applicationset": true, "appset": true, "appsets": true,
	"appprojects": true, "appproject": true, "appproj": true, "appprojs": true,
}

// TestShortNamesBesideArgoCD checks every CRD of ours has the category
// authentik (kubectl get authentik lists them all) and short names of its
// own, none of which kubectl could take for one of Argo CD's kinds.
func TestShortNamesBesideArgoCD(t *testing.T) {
	files, err := filepath.Glob(root + "package/provider/crds/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no CRDs in package/provider/crds")
	}
	owner := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		crd := struct {
			Spec struct {
				Names struct {
					Kind       string   `json:"kind"`
					ShortNames []string `json:"shortNames"`
					Categories []string `json:"categories"`
				} `json:"names"`
			} `json:"spec"`
		}{}
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := crd.Spec.Names
		hasCategory := false
		for _, c := range n.Categories {
			hasCategory = hasCategory || c == "authentik"
		}
		if !hasCategory {
			t.Errorf("%s: no category authentik (kubebuilder:resource categories)", n.Kind)
		}
		if len(n.ShortNames) == 0 {
			t.Errorf("%s: no short name; give it one starting with ak (kubebuilder:resource shortName)", n.Kind)
		}
		for _, s := range n.ShortNames {
			if argoCDNames[s] || !strings.HasPrefix(s, "ak") {
				t.Errorf("%s: short name %q is one of Argo CD's or does not start with ak", n.Kind, s)
			}
			if o, ok := owner[s]; ok {
				t.Errorf("%s and %s share the short name %q", o, n.Kind, s)
			}
			owner[s] = n.Kind
		}
	}
}
