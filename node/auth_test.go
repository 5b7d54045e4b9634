package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/node"
)

// testAdminToken is the admin token of the nodes of startAuthMember,
// from a token file, so that the tests' calls to any node's admin
// endpoint need no setup (TestAdminTokensInTheDirectory tests the
// directory's tokens).
const testAdminToken = "ptk_node_tests_admin_token"

// startAuthMember starts a cluster node with authentication on and an
// admin endpoint that takes testAdminToken; one that joins (via set)
// spends a join token of via.
func startAuthMember(t *testing.T, dir string, via ...*node.Node) *node.Node {
	t.Helper()
	return startClosedMember(t, dir, true, via...)
}

// startClosedMember is startAuthMember, with testAdminToken's file or
// (withTokenFile false) as `partita start` runs it: with the directory's
// admin tokens alone.
func startClosedMember(t *testing.T, dir string, withTokenFile bool, via ...*node.Node) *node.Node {
	t.Helper()
	return startClosedMemberLogged(t, dir, withTokenFile, nil, via...)
}

// startClosedMemberLogged is startClosedMember logging at debug level to
// logs (nil: the default logger).
func startClosedMemberLogged(t *testing.T, dir string, withTokenFile bool, logs io.Writer, via ...*node.Node) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = dir, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.ReconcileInterval = 100 * time.Millisecond
	cfg.Auth = node.AuthConfig{Enabled: true}
	if withTokenFile {
		cfg.TLS.AdminTokenFile = filepath.Join(dir, "test-admin-tokens")
		if err := os.WriteFile(cfg.TLS.AdminTokenFile, []byte(testAdminToken+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range via {
		tok, err := v.CreateJoinToken(context.Background(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Join, cfg.JoinToken = append(cfg.Join, v.PeerAddr()), tok
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// keyProvider signs with whatever key it holds now.
type keyProvider struct{ key atomic.Pointer[auth.Key] }

func (p *keyProvider) Retrieve(context.Context) (aws.Credentials, error) {
	k := p.key.Load()
	return aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.Secret, Source: "test"}, nil
}

func signedClient(n *node.Node, creds aws.CredentialsProvider) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: creds, RetryMaxAttempts: 1})
}

func keyClient(n *node.Node, k auth.Key) *dynamodb.Client {
	p := &keyProvider{}
	p.key.Store(&k)
	return signedClient(n, p)
}

// adminCall sends method path to n's admin endpoint and decodes the JSON
// answer into out; it returns the HTTP status.
func adminCall(t *testing.T, n *node.Node, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, n.AdminURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

func createKey(t *testing.T, n *node.Node, user string) auth.Key {
	t.Helper()
	var k admin.NewAccessKey
	if st := adminCall(t, n, http.MethodPost, "/auth/users/"+user+"/keys", &k); st != http.StatusOK {
		t.Fatalf("create a key of %s: status %d", user, st)
	}
	return auth.Key{AccessKeyID: k.ID, Secret: k.Secret, User: k.User}
}

func attach(t *testing.T, n *node.Node, user, policy string) {
	t.Helper()
	if st := adminCall(t, n, http.MethodPost, "/auth/users/"+user+"/policies/"+policy, nil); st != http.StatusOK {
		t.Fatalf("attach %s to %s: status %d", policy, user, st)
	}
}

func listTables(c *dynamodb.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	return err
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// waitAll waits until cond holds for every node, and returns how long
// that took.
func waitAll(t *testing.T, what string, nodes []*node.Node, cond func(*node.Node) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for _, n := range nodes {
		waitUntil(t, what, func() bool { return cond(n) })
	}
	return time.Since(start)
}

// TestAuthKeysInTheDirectory: on a cluster of three nodes closed by
// default, the bootstrap node's key works everywhere; a key created
// through one node's admin endpoint is accepted by every node, then
// refused by every node once disabled, without a restart; the cluster key
// reached the nodes that joined; and no secret lies in plain text in any
// node's storage.
func TestAuthKeysInTheDirectory(t *testing.T) {
	t.Parallel()
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	n1 := startAuthMember(t, dirs[0])
	n2 := startAuthMember(t, dirs[1], n1)
	n3 := startAuthMember(t, dirs[2], n1)
	nodes := []*node.Node{n1, n2, n3}
	boot := n1.BootstrapCredentials()
	if boot == nil || boot.User != node.BootstrapUser || n2.BootstrapCredentials() != nil {
		t.Fatalf("bootstrap credentials: node 1 %v, node 2 %v", boot, n2.BootstrapCredentials())
	}
	for _, n := range nodes {
		if err := listTables(keyClient(n, auth.Key{AccessKeyID: "PKIANOSUCHKEY0000000", Secret: "x"})); !isCode(err, "UnrecognizedClientException") {
			t.Fatalf("node %d, an unknown key: %v", n.ID(), err)
		}
	}
	took := waitAll(t, "the bootstrap key works on every node", nodes, func(n *node.Node) bool {
		return listTables(keyClient(n, *boot)) == nil
	})
	t.Logf("the bootstrap key worked on every node after %v", took)

	if st := adminCall(t, n2, http.MethodPost, "/auth/users/bob", nil); st != http.StatusOK {
		t.Fatalf("create bob: status %d", st)
	}
	if st := adminCall(t, n2, http.MethodPost, "/auth/users/bob", nil); st != http.StatusConflict {
		t.Fatalf("create bob again: status %d, want 409", st)
	}
	attach(t, n2, "bob", node.AllowAllPolicy)
	bob := createKey(t, n2, "bob")
	took = waitAll(t, "bob's key works on every node", nodes, func(n *node.Node) bool {
		return listTables(keyClient(n, bob)) == nil
	})
	t.Logf("a created key worked on every node after %v", took)

	var k admin.AccessKey
	if st := adminCall(t, n3, http.MethodPost, "/auth/keys/"+bob.AccessKeyID+"/disable", &k); st != http.StatusOK || k.Status != admin.KeyInactive {
		t.Fatalf("disable bob's key: status %d, %+v", st, k)
	}
	took = waitAll(t, "bob's disabled key refused on every node", nodes, func(n *node.Node) bool {
		return isCode(listTables(keyClient(n, bob)), "UnrecognizedClientException")
	})
	t.Logf("a disabled key was refused on every node after %v", took)
	if err := listTables(keyClient(n1, *boot)); err != nil {
		t.Fatalf("the admin key after bob's was disabled: %v", err)
	}

	var keys []admin.AccessKey
	if st := adminCall(t, n1, http.MethodGet, "/auth/users/bob/keys", &keys); st != http.StatusOK || len(keys) != 1 || keys[0].Status != admin.KeyInactive {
		t.Fatalf("bob's keys: status %d, %+v", st, keys)
	}
	if st := adminCall(t, n1, http.MethodGet, "/auth/users/nobody/keys", nil); st != http.StatusNotFound {
		t.Fatalf("keys of a user that does not exist: status %d, want 404", st)
	}

	var want []byte
	for i, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, auth.ClusterKeyFile))
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		if i > 0 && !bytes.Equal(raw, want) {
			t.Fatalf("node %d holds another cluster key than node 1", i+1)
		}
		want = raw
	}
	for _, dir := range dirs {
		assertNoSecret(t, dir, &bob, boot)
	}
}

// assertNoSecret fails if a file of dir, other than the bootstrap
// credentials, holds a secret of keys (while it holds their ids: the
// records are there).
func assertNoSecret(t *testing.T, dir string, keys ...*auth.Key) {
	t.Helper()
	sawIDs := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == node.BootstrapCredentialsFile {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if bytes.Contains(raw, []byte(k.Secret)) {
				t.Errorf("%s holds the secret of %s in plain text", path, k.AccessKeyID)
			}
			if bytes.Contains(raw, []byte(k.AccessKeyID)) {
				sawIDs++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sawIDs == 0 {
		t.Fatalf("no file of %s holds an access key id: the search for secrets searched nothing", dir)
	}
}

// TestAuthKeyRotationUnderLoad: clients writing through every node move
// from a user's first key to its second, then the first is disabled and
// deleted, and not one request fails.
func TestAuthKeyRotationUnderLoad(t *testing.T) {
	t.Parallel()
	n1 := startAuthMember(t, t.TempDir())
	n2 := startAuthMember(t, t.TempDir(), n1)
	nodes := []*node.Node{n1, n2}
	boot := *n1.BootstrapCredentials()
	waitAll(t, "the bootstrap key works", nodes, func(n *node.Node) bool { return listTables(keyClient(n, boot)) == nil })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := keyClient(n1, boot).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("rotate"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	adminCall(t, n1, http.MethodPost, "/auth/users/app", nil)
	attach(t, n1, "app", node.AllowAllPolicy)
	first := createKey(t, n1, "app")
	waitAll(t, "the first key works", nodes, func(n *node.Node) bool { return listTables(keyClient(n, first)) == nil })

	// Four workers write through both nodes with the key their provider
	// holds; each counts the requests it sent with the second key.
	provider := &keyProvider{}
	provider.key.Store(&first)
	var (
		stop             atomic.Bool
		wg               sync.WaitGroup
		sent, failed     atomic.Int64
		onSecond         [4]atomic.Int64
		firstErr         atomic.Value
		secondKeyID      atomic.Value
		waitSecondPerWkr = func() {
			waitUntil(t, "every worker signs with the second key", func() bool {
				for i := range onSecond {
					if onSecond[i].Load() < 2 {
						return false
					}
				}
				return true
			})
		}
	)
	secondKeyID.Store("")
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := signedClient(nodes[w%2], provider)
			for i := 0; !stop.Load(); i++ {
				keyID := provider.key.Load().AccessKeyID
				_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("rotate"), Item: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: fmt.Sprint(w, "-", i%50)}}})
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				if keyID == secondKeyID.Load() {
					onSecond[w].Add(1)
				}
			}
		}()
	}
	waitUntil(t, "load", func() bool { return sent.Load() > 20 })
	second := createKey(t, n2, "app")
	waitAll(t, "the second key works", nodes, func(n *node.Node) bool { return listTables(keyClient(n, second)) == nil })
	secondKeyID.Store(second.AccessKeyID)
	provider.key.Store(&second)
	waitSecondPerWkr()
	if st := adminCall(t, n2, http.MethodPost, "/auth/keys/"+first.AccessKeyID+"/disable", nil); st != http.StatusOK {
		t.Fatalf("disable the first key: status %d", st)
	}
	if st := adminCall(t, n1, http.MethodDelete, "/auth/keys/"+first.AccessKeyID, nil); st != http.StatusOK {
		t.Fatalf("delete the first key: status %d", st)
	}
	waitAll(t, "the first key refused", nodes, func(n *node.Node) bool {
		return isCode(listTables(keyClient(n, first)), "UnrecognizedClientException")
	})
	before := sent.Load()
	waitUntil(t, "load after the rotation", func() bool { return sent.Load() > before+20 })
	stop.Store(true)
	wg.Wait()
	t.Logf("%d requests during the rotation, %d failed", sent.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the rotation; the first: %v", failed.Load(), sent.Load(), firstErr.Load())
	}
}

// TestAuthTurnedOnLater: a cluster started without authentication gets
// its first user and key at the first start with it on, and only then.
func TestAuthTurnedOnLater(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr = dir, "127.0.0.1:0", "127.0.0.1:0"
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n.BootstrapCredentials() != nil {
		t.Fatal("a node without authentication made a bootstrap key")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Enabled = true
	for i, want := range []bool{true, false} {
		n, err := node.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		k := n.BootstrapCredentials()
		if (k != nil) != want {
			t.Fatalf("start %d with authentication: bootstrap key %v, want one: %t", i+1, k, want)
		}
		if k != nil {
			waitUntil(t, "the bootstrap key works", func() bool { return listTables(keyClient(n, *k)) == nil })
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuthMemberWithoutClusterKey: a member that lost its cluster key
// (or belongs to a cluster made before them) does not make one of its
// own, which the other nodes could not open: it creates no key and
// accepts none of the directory's, until the file is copied back.
func TestAuthMemberWithoutClusterKey(t *testing.T) {
	t.Parallel()
	d1, d2 := t.TempDir(), t.TempDir()
	n1 := startAuthMember(t, d1)
	n2 := startAuthMember(t, d2, n1)
	// A third member: the meta partition keeps its quorum while n2 is
	// down (with two, it would have it only if n2 had not yet become a
	// voter, which a loaded machine makes unlikely).
	startAuthMember(t, t.TempDir(), n1)
	waitUntil(t, "three meta voters", func() bool { return len(n1.MetaVoters()) == 3 })
	boot := *n1.BootstrapCredentials()
	if err := n2.Close(); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(d2, auth.ClusterKeyFile)
	saved, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	n2 = startAuthMember(t, d2, n1)
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a member without the cluster key made one: %v", err)
	}
	if st := adminCall(t, n2, http.MethodPost, "/auth/users/admin/keys", nil); st != http.StatusInternalServerError {
		t.Fatalf("create a key through a member without the cluster key: status %d, want 500", st)
	}
	// A member just started may not yet know where the directory's
	// records are (a routing error); once it reads them it must refuse
	// the key, and never accept it.
	waitUntil(t, "the member refuses the directory's key", func() bool {
		err := listTables(keyClient(n2, boot))
		if err == nil {
			t.Fatal("a member without the cluster key accepted a directory key")
		}
		return isCode(err, "UnrecognizedClientException")
	})
	if err := n2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	n2 = startClosedMemberLogged(t, d2, true, &logs, n1)
	var last error
	defer func() {
		if t.Failed() {
			t.Logf("the last refusal: %v\nthe member's logs:\n%s", last, logs.String())
		}
	}()
	waitUntil(t, "the bootstrap key on the member given its key back", func() bool {
		last = listTables(keyClient(n2, boot))
		return last == nil
	})
}
