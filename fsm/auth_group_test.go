package fsm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// TestAuthGroupsAndTokens runs testdata/auth_groups.txt, as TestAuth runs
// auth.txt, with the commands of groups, admin tokens and join tokens
// besides those of auth.txt:
//
//	group-create name=N at=T | group-delete name=N
//	group-add group=G user=U | group-remove group=G user=U
//	group-attach group=G policy=P | group-detach group=G policy=P
//	admin-token-create token=TOK [name=N] at=T | admin-token-delete id=ID
//	join-token-create token=TOK expires=T at=T | join-token-delete id=ID
//	join-token-use token=TOK peer=ADDR at=T
//
// Tokens are given in clear; the commands carry their digests, as a
// proposer sends them.
func TestAuthGroupsAndTokens(t *testing.T) {
	replicas := []*engine.Engine{openEngine(t), openEngine(t), openEngine(t)}
	datadriven.RunTest(t, "testdata/auth_groups.txt", func(t *testing.T, td *datadriven.TestData) string {
		cmd := authScriptCommand(t, td)
		var out string
		for i, eng := range replicas {
			got := describeAuthResult(applyKeeping(t, eng, proto.Clone(cmd).(*partitapb.Command), fsm.DoctorOpsKept))
			got += describeAuthRecords(t, eng)
			if i > 0 && got != out {
				t.Fatalf("replica %d decided\n%s\nreplica 0 decided\n%s", i, got, out)
			}
			out = got
		}
		return out
	})
}

func setGroupOrTokenOp(t *testing.T, td *datadriven.TestData, cmd *partitapb.Command) {
	a := scriptArgs{t, td}
	digest := func() []byte { return directory.TokenDigest(a.s("token")) }
	switch td.Cmd {
	case "group-create":
		cmd.Op = &partitapb.Command_CreateGroup{CreateGroup: &partitapb.CreateGroup{Name: a.s("name")}}
	case "group-delete":
		cmd.Op = &partitapb.Command_DeleteGroup{DeleteGroup: &partitapb.DeleteGroup{Name: a.s("name")}}
	case "group-add", "group-remove":
		cmd.Op = &partitapb.Command_SetGroupMember{SetGroupMember: &partitapb.SetGroupMember{
			Group: a.s("group"), User: a.s("user"), Remove: td.Cmd == "group-remove"}}
	case "group-attach", "group-detach":
		cmd.Op = &partitapb.Command_AttachGroupPolicy{AttachGroupPolicy: &partitapb.AttachGroupPolicy{
			Group: a.s("group"), Policy: a.s("policy"), Detach: td.Cmd == "group-detach"}}
	case "admin-token-create":
		name := ""
		if td.HasArg("name") {
			name = a.s("name")
		}
		d := digest()
		cmd.Op = &partitapb.Command_CreateAdminToken{CreateAdminToken: &partitapb.CreateAdminToken{Token: &partitapb.AdminToken{
			Id: directory.TokenID(d), Digest: d, Name: name}}}
	case "admin-token-delete":
		cmd.Op = &partitapb.Command_DeleteAdminToken{DeleteAdminToken: &partitapb.DeleteAdminToken{Id: a.s("id")}}
	case "join-token-create":
		d := digest()
		cmd.Op = &partitapb.Command_CreateJoinToken{CreateJoinToken: &partitapb.CreateJoinToken{Token: &partitapb.JoinToken{
			Id: directory.TokenID(d), Digest: d, ExpiresUnixNanos: int64(a.u("expires"))}}}
	case "join-token-delete":
		cmd.Op = &partitapb.Command_DeleteJoinToken{DeleteJoinToken: &partitapb.DeleteJoinToken{Id: a.s("id")}}
	case "join-token-use":
		cmd.Op = &partitapb.Command_UseJoinToken{UseJoinToken: &partitapb.UseJoinToken{Digest: digest(), PeerAddr: a.s("peer")}}
	default:
		t.Fatalf("unknown command %q", td.Cmd)
	}
}

func groupString(g *partitapb.Group) string {
	return fmt.Sprintf("group %s users=%v policies=%v created=%d", g.GetName(), g.GetUsers(), g.GetPolicies(), g.GetCreatedUnixNanos())
}

func adminTokenString(tok *partitapb.AdminToken) string {
	return fmt.Sprintf("admin-token %s name=%q created=%d", tok.GetId(), tok.GetName(), tok.GetCreatedUnixNanos())
}

func joinTokenString(tok *partitapb.JoinToken) string {
	return fmt.Sprintf("join-token %s expires=%d used_by=%q used=%d created=%d", tok.GetId(), tok.GetExpiresUnixNanos(),
		tok.GetUsedBy(), tok.GetUsedUnixNanos(), tok.GetCreatedUnixNanos())
}

// describeGroupsAndTokens prints every group, admin token and join token
// record.
func describeGroupsAndTokens(t *testing.T, eng *engine.Engine) string {
	groups, err := directory.ReadGroups(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	joins, err := directory.ReadJoinTokens(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, g := range groups {
		b.WriteString("  " + groupString(g) + "\n")
	}
	lo, hi := directory.AdminTokensSpan()
	it, err := eng.Reader().NewIter(lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		tok, err := directory.DecodeAdminToken(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("  " + adminTokenString(tok) + "\n")
	}
	for _, j := range joins {
		b.WriteString("  " + joinTokenString(j) + "\n")
	}
	return b.String()
}
