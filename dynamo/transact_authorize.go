package dynamo

import (
	"context"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/item"
)

// transactAuthz lists what a transaction asks for, as DynamoDB's policies
// see it: each action is checked as its single-item operation
// (dynamodb:PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem)
// on its table, with its partition key as dynamodb:LeadingKeys.
func (s *Server) transactAuthz(ctx context.Context, op string, body []byte) ([]auth.Request, error) {
	var out []auth.Request
	add := func(action string, table *string, key item.Item) {
		arn, name := s.tableResource(str(table))
		r := auth.Request{Action: action, Resource: arn, Context: map[string][]string{}}
		if t, err := s.cfg.Backend.Table(ctx, name); err == nil && key != nil {
			r.Context[auth.KeyLeadingKeys] = hashValues(schemaOf(t), []item.Item{key})
		}
		out = append(out, r)
	}
	if op == "TransactGetItems" {
		var req transactGetRequest
		if err := decodeSlow(body, &req); err != nil {
			return nil, err
		}
		for _, m := range req.TransactItems {
			if m.Get != nil {
				add("dynamodb:GetItem", m.Get.TableName, m.Get.Key)
			}
		}
		return out, nil
	}
	var req transactWriteRequest
	if err := decodeSlow(body, &req); err != nil {
		return nil, err
	}
	for i := range req.TransactItems {
		m := &req.TransactItems[i]
		if a := m.Put; a != nil {
			add("dynamodb:PutItem", a.TableName, a.Item)
		}
		if a := m.Update; a != nil {
			add("dynamodb:UpdateItem", a.TableName, a.Key)
		}
		if a := m.Delete; a != nil {
			add("dynamodb:DeleteItem", a.TableName, a.Key)
		}
		if a := m.ConditionCheck; a != nil {
			add("dynamodb:ConditionCheckItem", a.TableName, a.Key)
		}
	}
	return out, nil
}
