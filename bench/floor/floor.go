// Package floor is the cheapest server of the DynamoDB JSON protocol: it
// decodes each request as a DynamoDB server must, then answers with a fixed
// valid response, storing nothing. Measured with the same clients as
// Partita, it gives the cost of the protocol alone: the floor under any
// real server's latency and the ceiling over its throughput.
package floor

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// attributeValue is a decoded DynamoDB attribute value (the kinds the
// benchmark sends; B arrives base64 and is decoded).
type attributeValue struct {
	S *string `json:"S,omitempty"`
	N *string `json:"N,omitempty"`
	B []byte  `json:"B,omitempty"`
}

type keyElement struct {
	AttributeName string
	KeyType       string
}

type attributeDefinition struct {
	AttributeName string
	AttributeType string
}

// request is the union of the fields of the operations served.
type request struct {
	TableName                 string
	Item                      map[string]attributeValue
	Key                       map[string]attributeValue
	UpdateExpression          string
	ConditionExpression       string
	KeyConditionExpression    string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]attributeValue
	ConsistentRead            bool
	Limit                     int
	KeySchema                 []keyElement
	AttributeDefinitions      []attributeDefinition
	BillingMode               string
}

// Handler answers DynamoDB requests with fixed responses.
type Handler struct {
	getItem []byte // GetItem's response: an item with a ValueSize payload

	mu     sync.Mutex
	tables map[string][]keyElement // key schemas of created tables
}

// NewHandler returns a handler whose GetItem returns an item with a
// valueSize-byte payload, like the items the benchmark writes.
func NewHandler(valueSize int) *Handler {
	item := fmt.Sprintf(`{"Item":{"pk":{"S":"key0"},"v":{"B":%q}}}`,
		base64.StdEncoding.EncodeToString(make([]byte, valueSize)))
	return &Handler{getItem: []byte(item), tables: map[string][]keyElement{}}
}

const targetPrefix = "DynamoDB_20120810."

// ServeHTTP decodes the request and writes the operation's response.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	var req request
	body, err := io.ReadAll(r.Body)
	if ok && err == nil {
		err = json.Unmarshal(body, &req)
	}
	if !ok || err != nil {
		writeError(w, "SerializationException", "malformed request")
		return
	}
	h.respond(w, op, &req)
}

func (h *Handler) respond(w http.ResponseWriter, op string, req *request) {
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		write(w, []byte("{}"))
	case "GetItem":
		write(w, h.getItem)
	case "Query", "Scan":
		write(w, []byte(`{"Count":0,"ScannedCount":0,"Items":[]}`))
	case "CreateTable":
		h.createTable(w, req)
	case "DescribeTable":
		h.describeTable(w, req.TableName)
	default:
		writeError(w, "UnknownOperationException", op)
	}
}

func (h *Handler) createTable(w http.ResponseWriter, req *request) {
	h.mu.Lock()
	_, exists := h.tables[req.TableName]
	if !exists {
		h.tables[req.TableName] = req.KeySchema
	}
	h.mu.Unlock()
	if exists {
		writeError(w, "ResourceInUseException", "Table already exists: "+req.TableName)
		return
	}
	writeJSON(w, map[string]any{"TableDescription": h.description(req.TableName, req.KeySchema)})
}

func (h *Handler) describeTable(w http.ResponseWriter, name string) {
	h.mu.Lock()
	ks, ok := h.tables[name]
	h.mu.Unlock()
	if !ok {
		writeError(w, "ResourceNotFoundException", "Requested resource not found: Table: "+name+" not found")
		return
	}
	writeJSON(w, map[string]any{"Table": h.description(name, ks)})
}

func (h *Handler) description(name string, ks []keyElement) map[string]any {
	return map[string]any{
		"TableName": name, "TableStatus": "ACTIVE", "KeySchema": ks,
		"TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/" + name,
	}
}

func write(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	write(w, b)
}

func writeError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + code, "message": msg})
	_, _ = w.Write(b)
}
