//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	"k8s.io/apimachinery/pkg/types"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// membersOf lists the usernames of a group's members, sorted.
func (e *env) membersOf(t *testing.T, group string) []string {
	t.Helper()
	l, resp, err := e.ak.API.CoreAPI.CoreUsersList(context.Background()).GroupsByPk([]string{group}).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, u := range l.Results {
		out = append(out, u.Username)
	}
	slices.Sort(out)
	return out
}

// TestMembershipLeavesUIMemberInPlace: a User in a Group through a
// GroupMembership, in a group that already has a member someone added in
// Authentik's UI. That member stays while the membership is made, while
// the Group is changed, and after the GroupMembership is deleted, which
// removes only its own user.
func TestMembershipLeavesUIMemberInPlace(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const ns, group, member, uiMember = "default", "e2e-members", "e2e-member", "e2e-ui-member"
	objects := fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Group
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  forProvider: {name: %[2]s, attributes: {stage: one}}
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: User
metadata: {name: %[3]s, namespace: %[1]s}
spec:
  forProvider: {username: %[3]s, name: E2E member}
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
`, ns, group, member)
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "groupmembership", member, "-n", ns, "--ignore-not-found", "--timeout=90s")
		_, _ = e.kubectl("", "delete", "group", group, "-n", ns, "--ignore-not-found", "--timeout=90s")
		_, _ = e.kubectl("", "delete", "user", member, "-n", ns, "--ignore-not-found", "--timeout=90s")
	})
	if out, err := e.kubectl(objects, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
	g := &v1alpha1.Group{}
	eventually(t, "the Group made in Authentik", func() (bool, string) {
		if err := e.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: group}, g); err != nil {
			return false, err.Error()
		}
		return meta.GetExternalName(g) != "", "no external name"
	})
	groupUUID := meta.GetExternalName(g)

	// Someone adds a member in the UI.
	ui, resp, err := e.ak.API.CoreAPI.CoreUsersCreate(ctx).UserRequest(*api.NewUserRequest(uiMember, "Added in the UI")).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = e.ak.API.CoreAPI.CoreUsersDestroy(context.Background(), ui.Pk).Execute() })
	resp, err = e.ak.API.CoreAPI.CoreGroupsAddUserCreate(ctx, groupUUID).UserAccountRequest(*api.NewUserAccountRequest(ui.Pk)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}

	membership := fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: GroupMembership
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  forProvider:
    userRef: {name: %[2]s}
    groupRef: {name: %[3]s}
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
`, ns, member, group)
	if out, err := e.kubectl(membership, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
	if out, err := e.kubectl("", "wait", "--for=condition=Ready", "groupmembership/"+member, "-n", ns, "--timeout=90s"); err != nil {
		t.Fatalf("the GroupMembership did not become Ready: %v: %s", err, out)
	}
	both := []string{member, uiMember}
	if diff := cmp.Diff(both, e.membersOf(t, groupUUID)); diff != "" {
		t.Errorf("members once the GroupMembership is Ready: -want, +got:\n%s", diff)
	}

	// A change to the Group is written without touching its members.
	if out, err := e.kubectl("", "patch", "group", group, "-n", ns, "--type=merge", "-p", `{"spec":{"forProvider":{"attributes":{"stage":"two"}}}}`); err != nil {
		t.Fatalf("patch: %v: %s", err, out)
	}
	eventually(t, "the Group's change written to Authentik", func() (bool, string) {
		got, resp, err := e.ak.API.CoreAPI.CoreGroupsRetrieve(ctx, groupUUID).IncludeUsers(false).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return false, err.Error()
		}
		return got.Attributes["stage"] == "two", fmt.Sprint(got.Attributes)
	})
	if diff := cmp.Diff(both, e.membersOf(t, groupUUID)); diff != "" {
		t.Errorf("members after the Group was updated: -want, +got:\n%s", diff)
	}

	if out, err := e.kubectl("", "delete", "groupmembership", member, "-n", ns, "--timeout=90s"); err != nil {
		t.Fatalf("delete: %v: %s", err, out)
	}
	if diff := cmp.Diff([]string{uiMember}, e.membersOf(t, groupUUID)); diff != "" {
		t.Errorf("members after the GroupMembership was deleted: -want, +got:\n%s", diff)
	}
}
