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

// TestAuth runs testdata/auth.txt: the commands of users, access keys and
// policies, each applied to three replicas of the meta partition; the
// replicas must return the same results and hold the same records after
// every command.
//
//	user-create name=N at=T
//	user-delete name=N
//	key-create id=ID user=U [sealed=S] at=T
//	key-disable id=ID | key-enable id=ID   at=T
//	key-delete id=ID
//	policy-put name=N doc=D at=T
//	policy-delete name=N
//	attach user=U policy=P | detach user=U policy=P
//
// Each prints the result (ok or the error, and the records it carries),
// then every user, key and policy record.
func TestAuth(t *testing.T) {
	replicas := []*engine.Engine{openEngine(t), openEngine(t), openEngine(t)}
	datadriven.RunTest(t, "testdata/auth.txt", func(t *testing.T, td *datadriven.TestData) string {
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

func authScriptCommand(t *testing.T, td *datadriven.TestData) *partitapb.Command {
	a := scriptArgs{t, td}
	cmd := &partitapb.Command{UnixNanos: int64(a.u("at"))}
	switch td.Cmd {
	case "user-create":
		cmd.Op = &partitapb.Command_CreateUser{CreateUser: &partitapb.CreateUser{Name: a.s("name")}}
	case "user-delete":
		cmd.Op = &partitapb.Command_DeleteUser{DeleteUser: &partitapb.DeleteUser{Name: a.s("name")}}
	case "key-create":
		sealed := a.s("sealed")
		if !td.HasArg("sealed") {
			sealed = "sealed-" + a.s("id")
		}
		cmd.Op = &partitapb.Command_CreateAccessKey{CreateAccessKey: &partitapb.CreateAccessKey{Key: &partitapb.AccessKey{
			Id: a.s("id"), User: a.s("user"), SealedSecret: []byte(sealed)}}}
	case "key-disable", "key-enable":
		cmd.Op = &partitapb.Command_SetAccessKeyDisabled{SetAccessKeyDisabled: &partitapb.SetAccessKeyDisabled{
			Id: a.s("id"), Disabled: td.Cmd == "key-disable"}}
	case "key-delete":
		cmd.Op = &partitapb.Command_DeleteAccessKey{DeleteAccessKey: &partitapb.DeleteAccessKey{Id: a.s("id")}}
	case "policy-put":
		cmd.Op = &partitapb.Command_PutPolicy{PutPolicy: &partitapb.PutPolicy{Policy: &partitapb.Policy{
			Name: a.s("name"), Document: a.s("doc")}}}
	case "policy-delete":
		cmd.Op = &partitapb.Command_DeletePolicy{DeletePolicy: &partitapb.DeletePolicy{Name: a.s("name")}}
	case "attach", "detach":
		cmd.Op = &partitapb.Command_AttachPolicy{AttachPolicy: &partitapb.AttachPolicy{
			User: a.s("user"), Policy: a.s("policy"), Detach: td.Cmd == "detach"}}
	default:
		setGroupOrTokenOp(t, td, cmd)
	}
	return cmd
}

func describeAuthResult(res *partitapb.Result) string {
	var b strings.Builder
	if e := res.GetError(); e != nil {
		fmt.Fprintf(&b, "error %s: %s\n", e.GetCode(), e.GetMessage())
	} else {
		b.WriteString("ok\n")
	}
	if u := res.GetUser(); u != nil {
		fmt.Fprintf(&b, "result %s\n", userString(u))
	}
	if k := res.GetAccessKey(); k != nil {
		fmt.Fprintf(&b, "result %s\n", keyString(k))
	}
	if p := res.GetPolicy(); p != nil {
		fmt.Fprintf(&b, "result %s\n", policyString(p))
	}
	if g := res.GetGroup(); g != nil {
		fmt.Fprintf(&b, "result %s\n", groupString(g))
	}
	if tok := res.GetAdminToken(); tok != nil {
		fmt.Fprintf(&b, "result %s\n", adminTokenString(tok))
	}
	if tok := res.GetJoinToken(); tok != nil {
		fmt.Fprintf(&b, "result %s\n", joinTokenString(tok))
	}
	return b.String()
}

func userString(u *partitapb.User) string {
	return fmt.Sprintf("user %s keys=%v policies=%v created=%d", u.GetName(), u.GetAccessKeyIds(), u.GetPolicies(),
		u.GetCreatedUnixNanos())
}

func keyString(k *partitapb.AccessKey) string {
	return fmt.Sprintf("key %s user=%s sealed=%s disabled=%t created=%d updated=%d", k.GetId(), k.GetUser(),
		k.GetSealedSecret(), k.GetDisabled(), k.GetCreatedUnixNanos(), k.GetUpdatedUnixNanos())
}

func policyString(p *partitapb.Policy) string {
	return fmt.Sprintf("policy %s doc=%s updated=%d", p.GetName(), p.GetDocument(), p.GetUpdatedUnixNanos())
}

// describeAuthRecords prints every user, key and policy record.
func describeAuthRecords(t *testing.T, eng *engine.Engine) string {
	users, err := directory.ReadUsers(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := directory.ReadAccessKeys(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	policies, err := directory.ReadPolicies(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, u := range users {
		b.WriteString("  " + userString(u) + "\n")
	}
	for _, k := range keys {
		b.WriteString("  " + keyString(k) + "\n")
	}
	for _, p := range policies {
		b.WriteString("  " + policyString(p) + "\n")
	}
	b.WriteString(describeGroupsAndTokens(t, eng))
	return b.String()
}
