package node_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// dial opens a raw connection to the listener at url.
func dial(t *testing.T, url string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByServer reports whether the server closed c (a read ends in EOF
// or a reset) before the test's patience runs out: 10 s, far above the
// timeouts under test, so that a slow machine cannot fail it, while a
// server that never closes does.
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// putRequest is the raw HTTP text of a PutItem whose body is body, with a
// Content-Length of length (len(body) when 0).
func putRequest(body string, length int) string {
	if length == 0 {
		length = len(body)
	}
	return fmt.Sprintf("POST / HTTP/1.1\r\nHost: test\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n"+
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s", length, body)
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

func TestStalledClientsAreClosed(t *testing.T) {
	t.Parallel()
	n := startWith(t, func(cfg *node.Config) {
		cfg.APILimits.ReadHeaderTimeout = 200 * time.Millisecond
		cfg.APILimits.ReadTimeout = 300 * time.Millisecond
		cfg.APILimits.IdleTimeout = 200 * time.Millisecond
		cfg.AdminLimits = cfg.APILimits
	})
	for name, url := range map[string]string{"api": n.APIURL(), "admin": n.AdminURL()} {
		t.Run(name+" headers never finished", func(t *testing.T) {
			c := dial(t, url)
			write(t, c, "POST / HTTP/1.1\r\nHost: test\r\n")
			if !closedByServer(c) {
				t.Fatal("a client that never finished its headers is still connected")
			}
		})
		t.Run(name+" body shorter than its length", func(t *testing.T) {
			c := dial(t, url)
			write(t, c, putRequest(`{"TableName":"t"`, 100))
			if !closedByServer(c) {
				t.Fatal("a client that stalled in its body is still connected")
			}
		})
		t.Run(name+" idle keep-alive", func(t *testing.T) {
			c := dial(t, url)
			write(t, c, "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Close {
				t.Fatal("the server closes after each request; the keep-alive case is not tested")
			}
			if !closedByServer(c) {
				t.Fatal("an idle keep-alive connection is still open")
			}
		})
	}
}

// TestIdleFloodDoesNotStarveClients fills both listeners with idle
// connections far beyond their limits: the node closes the idle ones to
// admit new clients, so writes, reads and /healthz go on.
func TestIdleFloodDoesNotStarveClients(t *testing.T) {
	t.Parallel()
	const apiMax, adminMax, flood = 16, 4, 200
	n := startWith(t, func(cfg *node.Config) {
		cfg.APILimits.MaxConns, cfg.AdminLimits.MaxConns = apiMax, adminMax
	})
	var idle []net.Conn
	for range flood {
		idle = append(idle, dial(t, n.APIURL()), dial(t, n.AdminURL()))
	}
	health := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := health.Get(n.AdminURL() + "/healthz")
	if err != nil {
		t.Fatalf("/healthz under an idle flood: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz under an idle flood: %s", resp.Status)
	}
	c, ctx := client(n), context.Background()
	createTable(t, c, "flood")
	for i := range 20 {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("flood"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint(i)}}}); err != nil {
			t.Fatalf("PutItem %d under an idle flood: %v", i, err)
		}
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("flood"), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "7"}}})
	if err != nil || out.Item == nil {
		t.Fatalf("GetItem under an idle flood: %v, %v", out, err)
	}
	open := metric(t, n, `partita_http_connections\{listener="api",state="idle"\}`) +
		metric(t, n, `partita_http_connections\{listener="api",state="active"\}`)
	if open > apiMax {
		t.Errorf("%v API connections open, limit %d", open, apiMax)
	}
	if ev := metric(t, n, `partita_http_connections_evicted_total\{listener="api"\}`); ev < flood-apiMax {
		t.Errorf("%v idle API connections evicted, want at least %d", ev, flood-apiMax)
	}
	closed := 0
	for _, c := range idle[:20] { // the oldest ones, first to go
		if closedByServer(c) {
			closed++
		}
	}
	if closed != 20 {
		t.Errorf("%d of the 20 oldest idle connections closed", closed)
	}
}

const validPut = `{"TableName":"busy","Item":{"pk":{"S":"x"}}}`

// holdSlot sends a PutItem whose body stalls, so that its handler holds
// the node's only in-flight slot, and waits until another request is
// throttled. It returns the stalled connection and the throttled answer.
// A probe that reaches the server first takes the slot and gets the
// stalled request throttled instead (the server answers it at once): the
// stalled request is then sent again.
func holdSlot(t *testing.T, n *node.Node) (net.Conn, string) {
	t.Helper()
	// A stalled request holds the slot from when its handler admits it,
	// before its body is read: the probes wait for that, or one could
	// take the slot first and have the stalled request throttled.
	stall := func() net.Conn {
		c := dial(t, n.APIURL())
		write(t, c, putRequest(validPut[:10], len(validPut)))
		for deadline := time.Now().Add(10 * time.Second); metric(t, n, `partita_dynamo_requests_running`) < 1; {
			if time.Now().After(deadline) {
				t.Fatal("the stalled request never took its slot")
			}
			time.Sleep(5 * time.Millisecond)
		}
		return c
	}
	stalled := stall()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		probe := dial(t, n.APIURL())
		write(t, probe, putRequest(validPut, 0))
		resp, err := http.ReadResponse(bufio.NewReader(probe), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		probe.Close()
		if bytes.Contains(body, []byte("Throttling")) {
			return stalled, resp.Status + " " + string(body)
		}
		if answered(stalled) {
			stalled.Close()
			stalled = stall()
		}
	}
	t.Fatal("no request was throttled while the only slot was held")
	return nil, ""
}

// answered says the server has answered (or closed) c, a connection
// whose request is expected to be stalled.
func answered(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	defer c.SetReadDeadline(time.Time{})
	var b [1]byte
	n, err := c.Read(b[:])
	if n > 0 {
		return true
	}
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func TestInflightLimitThrottles(t *testing.T) {
	t.Parallel()
	n := startWith(t, func(cfg *node.Config) { cfg.MaxInflight = 1 })
	createTable(t, client(n), "busy")
	stalled, answer := holdSlot(t, n)
	want := `400 Bad Request {"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`
	if answer != want {
		t.Errorf("throttled answer %s, want %s", answer, want)
	}
	// The SDK retries the throttle; once the stalled request ends, the
	// retry goes through.
	var attempts, throttled atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		attempts.Add(1)
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && resp.StatusCode == http.StatusBadRequest && throttled.Add(1) == 1 {
			write(t, stalled, validPut[10:])
		}
		return resp, err
	})
	c := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		HTTPClient:  &http.Client{Transport: rt},
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 20
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 20 * time.Millisecond, nil })
		}),
	})
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("busy"),
		Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "sdk"}}}); err != nil {
		t.Fatalf("PutItem after a throttle: %v", err)
	}
	if throttled.Load() == 0 || attempts.Load() < 2 {
		t.Errorf("%d attempts, %d throttled: the SDK's retry of a throttle was not exercised", attempts.Load(), throttled.Load())
	}
	if got := metric(t, n, `partita_dynamo_errors_total\{operation="PutItem",type="ThrottlingException"\}`); got < 2 {
		t.Errorf("%v throttles counted, want at least 2", got)
	}
}

// TestBusyListenerRefusesNewConnections: at the connection limit with every
// connection in a request, a new connection is closed at once instead of
// waiting in the backlog.
func TestBusyListenerRefusesNewConnections(t *testing.T) {
	t.Parallel()
	n := startWith(t, func(cfg *node.Config) { cfg.APILimits.MaxConns = 2 })
	for range 2 {
		write(t, dial(t, n.APIURL()), putRequest(validPut[:10], len(validPut)))
	}
	active := `partita_http_connections\{listener="api",state="active"\}`
	for deadline := time.Now().Add(10 * time.Second); metric(t, n, active) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the two stalled requests never became active")
		}
		time.Sleep(10 * time.Millisecond)
	}
	third := dial(t, n.APIURL())
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(third)
	if errors.Is(err, os.ErrDeadlineExceeded) || len(got) != 0 {
		t.Fatalf("a connection beyond the limit read %q, %v; want it closed at once", got, err)
	}
	if refused := metric(t, n, `partita_http_connections_refused_total\{listener="api"\}`); refused < 1 {
		t.Errorf("%v connections refused", refused)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestOversizedHeadersAreRefused: a request whose header passes the
// listeners' bound is answered 431 and not served; one within it is.
func TestOversizedHeadersAreRefused(t *testing.T) {
	t.Parallel()
	n := startWith(t, func(*node.Config) {})
	for name, url := range map[string]string{"api": n.APIURL(), "admin": n.AdminURL()} {
		for _, c := range []struct {
			size int
			want int
		}{{8 << 10, http.StatusOK}, {node.DefaultMaxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge}} {
			conn := dial(t, url)
			write(t, conn, "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Padding: "+strings.Repeat("p", c.size)+"\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s, %d bytes of header: %v", name, c.size, err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s, %d bytes of header: status %d, want %d", name, c.size, resp.StatusCode, c.want)
			}
		}
	}
}
