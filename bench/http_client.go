package bench

import (
	"net/http"
	"time"
)

// newHTTPClient returns an HTTP client whose connection pool fits the
// number of concurrent clients, so connections are reused, not churned.
func newHTTPClient(clients int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = clients * 2
	tr.MaxIdleConnsPerHost = clients * 2
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
