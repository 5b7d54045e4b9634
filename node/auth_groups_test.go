package node_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/partitadb/partita/admin"
)

// TestAuthGroups: with the AWS SDK, a user without policies of its own
// may do what a group it joins allows, and no more; a Deny of another of
// its groups wins over an Allow of its own; simulate names the group's
// statement; leaving the group takes its policies away.
func TestAuthGroups(t *testing.T) {
	t.Parallel()
	n := startAuthMember(t, t.TempDir())
	root := keyClient(n, *n.BootstrapCredentials())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createNotes(ctx, t, root)
	for name, doc := range map[string]string{
		"writers": `{"Version":"2012-10-17","Statement":[{"Sid":"WriteNotes","Effect":"Allow",
			"Action":["dynamodb:PutItem","dynamodb:GetItem","dynamodb:DeleteItem"],"Resource":"arn:aws:dynamodb:*:*:table/Notes"}]}`,
		"no-deletes": `{"Version":"2012-10-17","Statement":[{"Sid":"NoDeletes","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"*"}]}`,
	} {
		if st := putPolicy(t, n, name, doc); st != http.StatusOK {
			t.Fatalf("put policy %s: status %d", name, st)
		}
	}
	adminCall(t, n, http.MethodPost, "/auth/users/hal", nil)
	hal := keyClient(n, createKey(t, n, "hal"))
	put := func() error {
		_, err := hal.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Notes"), Item: note("hal", "1")})
		return err
	}
	del := func() error {
		_, err := hal.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Notes"), Key: note("hal", "1")})
		return err
	}
	const who = "User: arn:aws:iam::000000000000:user/hal is not authorized to perform: dynamodb:"
	const arn = " on resource: arn:aws:dynamodb:us-east-1:000000000000:table/Notes"
	waitUntil(t, "hal known and refused", func() bool { return isCode(put(), "AccessDeniedException") })
	wantDenied(t, "hal without groups", put(), who+"PutItem"+arn+" because no identity-based policy allows")

	var g admin.Group
	for _, step := range []struct{ method, path string }{
		{http.MethodPost, "/auth/groups/team"},
		{http.MethodPost, "/auth/groups/team/users/hal"},
		{http.MethodPost, "/auth/groups/team/policies/writers"},
	} {
		if st := adminCall(t, n, step.method, step.path, &g); st != http.StatusOK {
			t.Fatalf("%s %s: status %d", step.method, step.path, st)
		}
	}
	if g.Name != "team" || strings.Join(g.Users, ",") != "hal" || strings.Join(g.Policies, ",") != "writers" {
		t.Fatalf("group after the changes: %+v", g)
	}
	waitUntil(t, "hal writes through his group", func() bool { return put() == nil })
	if err := del(); err != nil {
		t.Fatalf("hal deletes through his group: %v", err)
	}

	// A Deny of another group wins over his own Allow.
	attach(t, n, "hal", "writers")
	for _, path := range []string{"/auth/groups/careful", "/auth/groups/careful/users/hal", "/auth/groups/careful/policies/no-deletes"} {
		if st := adminCall(t, n, http.MethodPost, path, nil); st != http.StatusOK {
			t.Fatalf("POST %s: status %d", path, st)
		}
	}
	waitUntil(t, "a group's Deny applies", func() bool { return isCode(del(), "AccessDeniedException") })
	wantDenied(t, "hal deletes in a careful group", del(), who+"DeleteItem"+arn+" with an explicit deny in an identity-based policy")
	var sim admin.SimulateResult
	adminCall(t, n, http.MethodGet, "/auth/simulate?user=hal&action=DeleteItem&resource=Notes", &sim)
	if sim.Allowed || sim.Group != "careful" || sim.Statement != "NoDeletes" ||
		!strings.Contains(sim.Explanation, "denied by statement NoDeletes of policy no-deletes") ||
		!strings.Contains(sim.Explanation, "attached to group careful") {
		t.Fatalf("simulate: %+v, want the group's statement", sim)
	}
	sim = admin.SimulateResult{}
	adminCall(t, n, http.MethodGet, "/auth/simulate?user=hal&action=PutItem&resource=Notes", &sim)
	if !sim.Allowed || sim.Group != "" || sim.Policy != "writers" {
		t.Fatalf("simulate an allow of his own policy (also his group's): %+v, want no group named", sim)
	}
	if st := adminCall(t, n, http.MethodDelete, "/auth/groups/careful/users/hal", nil); st != http.StatusOK {
		t.Fatalf("remove hal from careful: status %d", st)
	}
	waitUntil(t, "out of the group, its Deny is gone", func() bool { return put() == nil && del() == nil })
	if st := adminCall(t, n, http.MethodDelete, "/auth/policies/writers", nil); st != http.StatusConflict {
		t.Fatalf("delete a policy attached to a group: status %d, want 409", st)
	}
}
