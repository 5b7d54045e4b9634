package dynamo_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTimeToLiveValidation sends UpdateTimeToLive bodies the SDK would
// refuse to build: DynamoDB checks the specification's members before it
// looks the table up.
func TestTimeToLiveValidation(t *testing.T) {
	url, _ := startRawNode(t)
	for _, tc := range []struct{ body, want string }{
		{`{"TableName":"nope"}`,
			"Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null"},
		{`{"TableName":"nope","TimeToLiveSpecification":{"Enabled":true}}`,
			"Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null"},
		{`{"TableName":"nope","TimeToLiveSpecification":{"AttributeName":"exp"}}`,
			"Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null"},
		{`{"TableName":"nope","TimeToLiveSpecification":{"Enabled":true,"AttributeName":""}}`,
			"'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
	} {
		status, body := post(t, url, "UpdateTimeToLive", tc.body)
		if status != http.StatusBadRequest || !strings.Contains(body, "ValidationException") || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want a ValidationException with %q", tc.body, status, body, tc.want)
		}
	}
	status, body := post(t, url, "DescribeTimeToLive", `{"TableName":"nope"}`)
	if status != http.StatusBadRequest || !strings.Contains(body, "ResourceNotFoundException") {
		t.Errorf("DescribeTimeToLive of a missing table: %d %s", status, body)
	}
}
