package dynamo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/dynamo"
)

// TestControlPlaneRate: table operations beyond the control plane's rate
// get ThrottlingException at once; item operations and reads of the
// catalogue are not counted; the rate refills with the clock.
func TestControlPlaneRate(t *testing.T) {
	f := newFixtureWith(t, func(c *dynamo.Config) { c.ControlPlaneRate, c.ControlPlaneBurst = 1, 2 })
	f.createTable("aaa", "")
	f.createTable("bbb", "")
	create := func(name string) string {
		return `{"TableName":"` + name + `","BillingMode":"PAY_PER_REQUEST",
			"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
			"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`
	}
	f.fails("CreateTable", create("ccc"), "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
	f.fails("DeleteTable", `{"TableName":"aaa"}`, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
	for i := range 5 {
		f.ok("PutItem", fmt.Sprintf(`{"TableName":"aaa","Item":{"pk":{"S":"k%d"}}}`, i))
		f.ok("DescribeTable", `{"TableName":"aaa"}`)
	}
	f.clock.nanos.Add(int64(time.Second))
	f.ok("CreateTable", create("ccc"))
	f.fails("CreateTable", create("ddd"), "ThrottlingException", "")
}
