package console_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/chromedp"

	"github.com/partitadb/partita/certs"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
)

// scalePartitions, when set, makes TestConsoleScale measure the tables
// page over a table of that many partitions (docs/console.md).
var scalePartitions = flag.Int("console.partitions", 0, "TestConsoleScale's partitions (0: 120)")

// browser returns a headless chromium's context, or skips the test where
// chromium is not installed; in CI (CI set) a missing browser fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil { // starts the browser
		t.Fatal(err)
	}
	return ctx
}

// artifacts is where screenshots go: $CONSOLE_ARTIFACTS, or the test's
// temp dir.
func artifacts(t *testing.T) string {
	if d := os.Getenv("CONSOLE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func startNode(t *testing.T, tweak func(*node.Config), join ...string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", join
	cfg.ReconcileInterval, cfg.TopologyInterval = 100*time.Millisecond, 200*time.Millisecond
	cfg.Doctor, cfg.DoctorLease = true, 1500*time.Millisecond
	cfg.DoctorOptions = node.DoctorConfig{Interval: 300 * time.Millisecond, DeadAfter: 2 * time.Second,
		ReplicaDownAfter: 3 * time.Second, OpDeadline: time.Minute}
	cfg.MetricsHistoryInterval = 500 * time.Millisecond
	// Every request traced, so that the waterfall of an ordinary one shows
	// (by default one in ten is).
	cfg.Settings = map[string]settings.Static{"trace.sample-rate": {Text: "1", From: settings.FromFlag}}
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func client(n *node.Node) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
}

func createTable(t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func post(t *testing.T, n *node.Node, path string) {
	t.Helper()
	resp, err := http.Post(n.AdminURL()+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d", path, resp.StatusCode)
	}
}

// page drives one tab of the console.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

// open navigates to the console's route and waits for it to render.
func (p *page) open(route string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Navigate(p.base+"/console/#/"+route)); err != nil {
		p.t.Fatal(err)
	}
	name := strings.SplitN(route, "?", 2)[0]
	p.until(fmt.Sprintf("document.body.dataset.rendered === %q", name), 20*time.Second)
}

// until polls the page's JavaScript expression until it is true.
func (p *page) until(expr string, within time.Duration) {
	p.t.Helper()
	var last string
	for deadline := time.Now().Add(within); ; time.Sleep(100 * time.Millisecond) {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err != nil {
			last = err.Error()
		} else if ok {
			return
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
			p.t.Fatalf("not true within %v: %s (%s); the page says:\n%s", within, expr, last, text)
		}
	}
}

// eval returns the value of a JavaScript expression on p.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// shot saves a screenshot of the whole page as console-NAME.png.
func (p *page) shot(name string) {
	p.t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, "console-"+name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// TestConsoleEndToEnd: a three-node cluster whose add-replica gate is
// red; a table created while it had one node, written and read through
// the SDK. In a real browser, every page shows what the cluster holds:
// its nodes, the table's partitions, the operations waiting at the red
// gate (one is approved with the button, and the timeline shows it run),
// the request traces and one trace's waterfall, the jobs, the settings
// and the raft state of a partition. Screenshots of every page go to
// $CONSOLE_ARTIFACTS or the test's temp dir.
func TestConsoleEndToEnd(t *testing.T) {
	ctx := browser(t)
	n1 := startNode(t, nil)
	post(t, n1, "/doctor/gates/add-replica?color=red&reason=console+test")
	c := client(n1)
	createTable(t, c, "orders")
	startNode(t, nil, n1.PeerAddr())
	startNode(t, nil, n1.PeerAddr())
	for i := range 20 {
		if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("orders"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("order-", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	// A failed request: its trace is kept as failed.
	_, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("orders"),
		Item:                map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "order-1"}},
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	if !errorsAs(err, &ccf) {
		t.Fatalf("conditional put of an existing item: %v, want ConditionalCheckFailedException", err)
	}

	p := &page{t: t, ctx: ctx, base: n1.AdminURL(), dir: artifacts(t)}
	// / redirects to the console; the overview lists the three nodes.
	if err := chromedp.Do(ctx, chromedp.Navigate(n1.AdminURL()+"/")); err != nil {
		t.Fatal(err)
	}
	p.until(`document.body.dataset.rendered === "overview" && location.pathname === "/console/"`, 20*time.Second)
	p.until(`document.querySelectorAll("tr[data-node]").length === 3`, 30*time.Second)
	p.until(`[...document.querySelectorAll(".chart svg polyline")].some(l => l.getAttribute("points").split(" ").length >= 3)`, 30*time.Second) // the history has samples
	p.shot("overview")

	p.open("tables?table=orders")
	p.until(`document.querySelectorAll("#partitions tr[data-partition]").length === 4`, 20*time.Second)
	p.until(`document.querySelector("tr[data-table=orders]") !== null`, time.Second)
	p.until(`!document.body.textContent.includes("Load unavailable") && document.querySelector("p.banner.error") === null`, time.Second)
	p.shot("tables")

	// The Doctor: additions wait at the red gate; approve one.
	p.open("doctor")
	p.until(`document.querySelector("#awaiting button[data-decide=approve]") !== null`, 45*time.Second)
	op := eval[string](p, `document.querySelector("#awaiting button[data-decide=approve]").dataset.id`)
	p.until(`document.querySelector("#gates tr[data-kind='add-replica'] .pill.red") !== null`, time.Second)
	p.until(`/replication factor 3 \(set by bootstrap/.test(document.querySelector("#replication").textContent)`, time.Second)
	p.until(`document.body.textContent.includes("In flight") && document.querySelector("p.banner.error") === null`, time.Second) // the plan was read
	p.shot("doctor-awaiting")
	// Found and clicked in one script: the page redraws the list as it
	// refreshes, and a click sent to a node found a moment before may land
	// on one no longer in the page, approving nothing.
	if !eval[bool](p, fmt.Sprintf(`(() => { const b = document.querySelector('#awaiting button[data-decide=approve][data-id="%s"]'); if (!b) return false; b.click(); return true })()`, op)) {
		t.Fatalf("operation %s is no longer awaiting approval", op)
	}
	p.until(fmt.Sprintf(`document.querySelector('#timeline tr[data-op="%s"][data-state="succeeded"]') !== null`, op), 45*time.Second)
	decided := eval[string](p, fmt.Sprintf(`document.querySelector('#timeline tr[data-op="%s"]').textContent`, op))
	if !strings.Contains(decided, "add-replica") || !strings.Contains(decided, "admin@") {
		t.Errorf("the approved operation's timeline row: %q; want add-replica decided by the console's caller", decided)
	}
	p.shot("doctor")

	// Traces: the requests above, one failed; a waterfall of its spans.
	p.open("traces")
	p.until(`document.querySelectorAll("#traces tr[data-trace]").length > 0`, 20*time.Second)
	p.until(`[...document.querySelectorAll("#traces tr[data-trace]")].some(r => r.textContent.includes("ConditionalCheckFailed"))`, 10*time.Second)
	p.shot("traces")
	id := eval[string](p, `[...document.querySelectorAll("#traces tr[data-trace]")].find(r => r.textContent.includes("dynamo.PutItem")).dataset.trace`)
	p.open("traces?id=" + id)
	p.until(`document.querySelectorAll("#waterfall tr[data-span]").length >= 2`, 10*time.Second)
	p.until(`document.querySelector("#waterfall tr[data-span='dynamo.PutItem']") !== null`, time.Second)
	p.shot("trace")

	p.open("jobs")
	p.until(`document.querySelector("#jobs tr[data-job='metrics-history']") !== null`, 10*time.Second)
	p.shot("jobs")
	p.open("config")
	p.until(`document.querySelector("#settings tr[data-setting='trace.sample-rate']") !== null`, 10*time.Second)
	p.shot("config")
	// The raft page of a partition the tables page links to.
	p.open("tables?table=orders")
	p.until(`document.querySelector("#partitions a[href^='#/raft?partition=']") !== null`, 10*time.Second)
	part := eval[int](p, `Number(document.querySelector("#partitions a[href^='#/raft?partition=']").textContent)`)
	p.open(fmt.Sprint("raft?partition=", part))
	p.until(`document.querySelectorAll("#members tr[data-member]").length >= 1 && document.querySelector("#members .pill.leader") !== null`, 10*time.Second)
	p.shot("raft")
}

// errorsAs is errors.As, named apart from the SDK's error types.
func errorsAs[T error](err error, target *T) bool {
	for err != nil {
		if e, ok := err.(T); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// TestConsoleScale: over a table of many partitions (120, more than two
// pages; -console.partitions=1000 for the figures of docs/console.md) on
// one node, the tables page holds one page of rows in its DOM and pages
// through the rest. It logs the bytes the browser received (the page, its
// assets and its data: Resource Timing's transfer sizes) and the time to
// its first render (performance.now() when the first data rendered).
func TestConsoleScale(t *testing.T) {
	parts := *scalePartitions
	if parts == 0 {
		parts = 120
	}
	ctx := browser(t)
	n := startNode(t, func(c *node.Config) {
		c.PeerAddr, c.PartitionsPerTable = "", uint32(parts)
		c.Doctor = false
	})
	createTable(t, client(n), "wide")
	p := &page{t: t, ctx: ctx, base: n.AdminURL(), dir: artifacts(t)}
	p.open("tables?table=wide")
	p.until(`document.querySelectorAll("#partitions tr[data-partition]").length === 50`, time.Minute)
	first := eval[string](p, `document.body.dataset.firstRenderMs`)
	rows := eval[int](p, `document.querySelectorAll("tr").length`)
	bytes := eval[int](p, `[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].reduce((a, e) => a + e.transferSize, 0)`)
	p.shot("tables-scale")
	out, _ := json.Marshal(map[string]any{"partitions": parts, "bytes": bytes, "first_render_ms": first, "dom_table_rows": rows})
	t.Logf("console scale: %s", out)
	if rows > 60 {
		t.Errorf("%d table rows in the DOM over %d partitions, want one page (50) and the headers", rows, parts)
	}
	pages := (parts + 49) / 50
	p.until(fmt.Sprintf(`document.querySelector("[data-pager]").textContent.includes("page 1 of %d")`, pages), time.Second)
	// The last page holds the rest. Each click finds the button and
	// clicks it in one script: the page redraws itself as its data
	// refreshes, and a node found by one DevTools call may be gone by the
	// next.
	for i := range pages - 1 {
		if !eval[bool](p, `(() => { const b = document.querySelector('[data-pager] button[data-step="1"]'); if (!b) return false; b.click(); return true })()`) {
			t.Fatalf("no next-page button before click %d", i+1)
		}
	}
	p.until(fmt.Sprintf(`document.querySelectorAll("#partitions tr[data-partition]").length === %d`, parts-(pages-1)*50), 20*time.Second)
}

// TestConsoleChangesNeedAToken: on a node whose admin endpoint takes
// tokens, the console reads from this machine without one, but a change
// made with its controls (a gate's colour) is refused until the admin's
// token is entered; then it goes through, and the page shows it.
func TestConsoleChangesNeedAToken(t *testing.T) {
	ctx := browser(t)
	file := filepath.Join(t.TempDir(), certs.TokensFile)
	tok, err := certs.AppendToken(file)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, func(c *node.Config) { c.TLS.AdminTokenFile = file })
	p := &page{t: t, ctx: ctx, base: n.AdminURL(), dir: artifacts(t)}
	p.open("doctor")
	p.until(`document.querySelector("#gates tr[data-kind='move-replica'] .pill.yellow") !== null`, 20*time.Second)
	setGate := `(() => { const s = document.querySelector("select[data-gate='move-replica']"); s.value = "red";
		s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`
	eval[bool](p, setGate)
	p.until(`document.getElementById("banner").textContent.includes("401")`, 10*time.Second)
	p.shot("token-refused")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#token"), tok), chromedp.Click(chromedp.CSS("#auth button"))); err != nil {
		t.Fatal(err)
	}
	p.until(`document.getElementById("who").textContent === "token set"`, 5*time.Second)
	p.until(`document.querySelector("#gates tr[data-kind='move-replica'] .pill.yellow") !== null`, 10*time.Second) // unchanged
	eval[bool](p, setGate)
	p.until(`document.querySelector("#gates tr[data-kind='move-replica'] .pill.red") !== null`, 10*time.Second)
	if got := eval[string](p, `sessionStorage.getItem("partita.adminToken")`); got != tok {
		t.Errorf("the token kept in sessionStorage is %q", got)
	}
}
