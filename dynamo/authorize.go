package dynamo

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/item"
)

// Authorizer decides whether the signer of a request may run it: the
// user's policies (package auth). Config.Authorizer; nil: every
// authenticated request is allowed.
type Authorizer interface {
	Authorize(p auth.Principal, r auth.Request) auth.Decision
	// ActionOnly reports whether p's requests are decided by their
	// action alone (auth.ActionOnly): the body is then not read to
	// allow one.
	ActionOnly(p auth.Principal) bool
}

// authzRequest holds the parameters authorization reads, for every
// operation (the rest of a body is ignored here).
type authzRequest struct {
	TableName                *string           `json:"TableName"`
	IndexName                *string           `json:"IndexName"`
	ResourceArn              *string           `json:"ResourceArn"`
	StreamArn                *string           `json:"StreamArn"`
	Key                      item.Item         `json:"Key"`
	Item                     item.Item         `json:"Item"`
	Select                   *string           `json:"Select"`
	ReturnValues             *string           `json:"ReturnValues"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	AttributesToGet          []string          `json:"AttributesToGet"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
}

// authorize checks that p may run op with body: every table the request
// touches is a resource (its index when it names one; "*" for an
// operation on no table), decided with the request's condition keys
// (LeadingKeys, Attributes, Select, ReturnValues). A refusal is
// AccessDeniedException, with DynamoDB's message.
func (s *Server) authorize(ctx context.Context, p auth.Principal, op string, body []byte) error {
	action := actions[op]
	if action == "" {
		action = "dynamodb:" + op
	}
	if s.cfg.Authorizer.ActionOnly(p) {
		r := auth.Request{User: p.User, Action: action, Resource: "*"}
		if s.cfg.Authorizer.Authorize(p, r).Allowed {
			return nil
		}
		// Refused: the full request makes the message name the table.
	}
	reqs, err := s.authzRequests(ctx, op, body)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		r.User = p.User
		if r.Action == "" {
			r.Action = action
		}
		if d := s.cfg.Authorizer.Authorize(p, r); !d.Allowed {
			user := "arn:aws:iam::" + s.cfg.AccountID + ":user/" + p.User
			return &auth.Error{Code: auth.AccessDenied, Message: auth.AccessDeniedMessage(user, r, d)}
		}
	}
	return nil
}

// actions holds the policy action of each operation, "dynamodb:<Op>",
// made once rather than by each request. Read only.
var actions = func() map[string]string {
	m := make(map[string]string, len(operations))
	for op := range operations {
		m[op] = "dynamodb:" + op
	}
	return m
}()

// authzRequests lists what op asks for: one request per table.
func (s *Server) authzRequests(ctx context.Context, op string, body []byte) ([]auth.Request, error) {
	switch op {
	case "BatchGetItem":
		return s.batchGetAuthz(ctx, body)
	case "BatchWriteItem":
		return s.batchWriteAuthz(ctx, body)
	case "ListTables", "DescribeLimits", "DescribeEndpoints", "ListStreams":
		return []auth.Request{{Resource: "*"}}, nil
	case "GetRecords":
		return []auth.Request{{Resource: s.iteratorResource(body)}}, nil
	case "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction":
		return s.partiqlAuthz(ctx, body)
	case "TransactWriteItems", "TransactGetItems":
		return s.transactAuthz(ctx, op, body)
	case "ExportTableToPointInTime", "ImportTable":
		return s.exportAuthz(body)
	case "RestoreTableToPointInTime":
		return s.restorePITRAuthz(body)
	}
	var req authzRequest
	if err := decodeSlow(body, &req); err != nil {
		return nil, err
	}
	if req.ResourceArn != nil {
		return []auth.Request{{Resource: *req.ResourceArn}}, nil
	}
	if req.StreamArn != nil {
		return []auth.Request{{Resource: *req.StreamArn}}, nil
	}
	if req.TableName == nil {
		// An operation on several tables (a transaction, when it lands)
		// must list them above; until then it is checked against "*",
		// which only a policy on every resource allows.
		return []auth.Request{{Resource: "*"}}, nil
	}
	arn, name := s.tableResource(str(req.TableName))
	r := auth.Request{Resource: arn, Context: map[string][]string{}}
	if req.IndexName != nil {
		r.Resource += "/index/" + *req.IndexName
	}
	if req.Select != nil {
		r.Context[auth.KeySelect] = []string{*req.Select}
	}
	if req.ReturnValues != nil {
		r.Context[auth.KeyReturnVals] = []string{*req.ReturnValues}
	}
	attrs := requestedAttributes(req.ProjectionExpression, req.AttributesToGet, req.ExpressionAttributeNames, req.Item)
	if op == "UpdateItem" {
		var err error
		if attrs, err = updatedAttributes(body); err != nil {
			return nil, err
		}
	}
	if attrs != nil {
		r.Context[auth.KeyAttributes] = attrs
	}
	leading, err := s.leadingKeys(ctx, op, name, body, req)
	if err != nil {
		return nil, err
	}
	if leading != nil {
		r.Context[auth.KeyLeadingKeys] = leading
	}
	return []auth.Request{r}, nil
}

// leadingKeys returns the partition key values a request on one table
// names: its Key or Item, or its key condition (Query). Nil when the
// request names none or the table does not exist (the operation then
// fails on its own).
func (s *Server) leadingKeys(ctx context.Context, op, table string, body []byte, req authzRequest) ([]string, error) {
	var keys []item.Item
	switch {
	case req.Key != nil:
		keys = append(keys, req.Key)
	case req.Item != nil:
		keys = append(keys, req.Item)
	case op != "Query":
		return nil, nil
	}
	t, err := s.cfg.Backend.Table(ctx, table)
	if err != nil {
		return nil, nil //nolint:nilerr // an unknown table fails in its handler, with DynamoDB's error
	}
	ks := schemaOf(t)
	if op == "Query" {
		return queryLeadingKey(ks, body)
	}
	return hashValues(ks, keys), nil
}

// queryLeadingKey is the partition key value of a Query's key condition.
func queryLeadingKey(ks keySchema, body []byte) ([]string, error) {
	var q queryRequest
	if err := decodeSlow(body, &q); err != nil {
		return nil, err
	}
	if err := q.checkShape(); err != nil {
		return nil, err
	}
	ex, err := q.exprs()
	if err != nil {
		return nil, err
	}
	hash, _, err := resolveKeyCondition(ks, ex.key)
	if err != nil {
		return nil, err
	}
	return []string{keyString(hash.Values[0])}, nil
}

// hashValues returns the partition key value of each key, as policies
// compare them: a string, a number's digits, base64 of binary.
func hashValues(ks keySchema, keys []item.Item) []string {
	hk := ks.hashKey()
	var out []string
	for _, k := range keys {
		if v, ok := k[hk.name]; ok {
			out = append(out, keyString(v))
		}
	}
	return out
}

func keyString(v item.Value) string {
	switch v.Type {
	case item.TypeS:
		return v.S
	case item.TypeN:
		return v.N.String()
	case item.TypeB:
		return base64.StdEncoding.EncodeToString(v.B)
	}
	return v.String()
}

// requestedAttributes are the top-level attributes a request reads or
// writes: its projection, or the attributes of the item it puts.
func requestedAttributes(proj *string, toGet []string, names map[string]string, it item.Item) []string {
	switch {
	case proj != nil:
		var out []string
		for _, path := range strings.Split(*proj, ",") {
			head := strings.TrimSpace(path)
			if i := strings.IndexAny(head, ".["); i >= 0 {
				head = strings.TrimSpace(head[:i])
			}
			if n, ok := names[head]; ok {
				head = n
			}
			out = append(out, head)
		}
		return out
	case toGet != nil:
		return toGet
	case it != nil:
		out := make([]string, 0, len(it))
		for name := range it {
			out = append(out, name)
		}
		return out
	}
	return nil
}

// updatedAttributes are the top-level attributes an UpdateItem's update
// (expression or AttributeUpdates) changes, checked as its handler checks
// them.
func updatedAttributes(body []byte) ([]string, error) {
	var req updateItemRequest
	if err := decodeSlow(body, &req); err != nil {
		return nil, err
	}
	if err := req.checkShape(); err != nil {
		return nil, err
	}
	es, err := req.exprs()
	if err != nil || es.update == nil {
		return nil, err
	}
	out := make([]string, 0, len(es.update.Actions))
	for _, a := range es.update.Actions {
		if name := a.Path.Name(); !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

func (s *Server) batchGetAuthz(ctx context.Context, body []byte) ([]auth.Request, error) {
	var req batchGetRequest
	if err := decodeSlow(body, &req); err != nil {
		return nil, err
	}
	var out []auth.Request
	for param, ka := range req.RequestItems {
		arn, name := s.tableResource(param)
		r := auth.Request{Resource: arn, Context: map[string][]string{}}
		if ka == nil {
			out = append(out, r)
			continue
		}
		if t, err := s.cfg.Backend.Table(ctx, name); err == nil {
			r.Context[auth.KeyLeadingKeys] = hashValues(schemaOf(t), ka.Keys)
		}
		if attrs := requestedAttributes(ka.ProjectionExpression, ka.AttributesToGet, ka.ExpressionAttributeNames, nil); attrs != nil {
			r.Context[auth.KeyAttributes] = attrs
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Server) batchWriteAuthz(ctx context.Context, body []byte) ([]auth.Request, error) {
	var req batchWriteRequest
	if err := decodeSlow(body, &req); err != nil {
		return nil, err
	}
	var out []auth.Request
	for param, writes := range req.RequestItems {
		arn, name := s.tableResource(param)
		r := auth.Request{Resource: arn, Context: map[string][]string{}}
		var keys []item.Item
		for _, w := range writes {
			switch {
			case w.PutRequest != nil:
				keys = append(keys, w.PutRequest.Item)
			case w.DeleteRequest != nil:
				keys = append(keys, w.DeleteRequest.Key)
			}
		}
		if t, err := s.cfg.Backend.Table(ctx, name); err == nil {
			r.Context[auth.KeyLeadingKeys] = hashValues(schemaOf(t), keys)
		}
		out = append(out, r)
	}
	return out, nil
}

// tableResource is the ARN a TableName parameter (a name or an ARN)
// stands for, and the table's name.
func (s *Server) tableResource(param string) (arn, name string) {
	if isARN(param) {
		name, _ = s.tableNameFromARN(param)
		return param, name
	}
	return s.tableARN(param), param
}

// exportAuthz names the table an export reads (TableArn) or an import
// creates (TableCreationParameters.TableName); "*" when there is none
// (the request then fails its checks).
func (s *Server) exportAuthz(body []byte) ([]auth.Request, error) {
	var req struct {
		TableArn                *string `json:"TableArn"`
		TableCreationParameters *struct {
			TableName *string `json:"TableName"`
		} `json:"TableCreationParameters"`
	}
	if err := decodeSlow(body, &req); err != nil {
		return nil, err
	}
	switch {
	case req.TableArn != nil:
		return []auth.Request{{Resource: *req.TableArn}}, nil
	case req.TableCreationParameters != nil && req.TableCreationParameters.TableName != nil:
		return []auth.Request{{Resource: s.tableARN(*req.TableCreationParameters.TableName)}}, nil
	}
	return []auth.Request{{Resource: "*"}}, nil
}

// restorePITRAuthz checks RestoreTableToPointInTime against its source
// table, as DynamoDB does.
func (s *Server) restorePITRAuthz(body []byte) ([]auth.Request, error) {
	var req restoreTableToPointInTimeRequest
	if err := decodeSlow(body, &req); err != nil {
		return nil, err
	}
	param := req.SourceTableArn
	if req.SourceTableName != nil {
		param = req.SourceTableName
	}
	if param == nil {
		return []auth.Request{{Resource: "*"}}, nil
	}
	arn, _ := s.tableResource(*param)
	return []auth.Request{{Resource: arn}}, nil
}
