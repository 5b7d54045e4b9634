package dynamo

import "github.com/partitadb/partita/item"

// The fast path of decode. Under load nearly every request is a small
// PutItem, GetItem or DeleteItem with a table name, an item or key and
// perhaps a few option strings. encoding/json reads such a body a byte at a
// time, once to find the value's end and again to skip the Item before
// handing it to item.Item.UnmarshalJSON; the item package's scanner splits
// it in one fast pass instead. Anything out of the ordinary (another key, a
// key in another case or written with escapes, a repeated key, null, a
// value of another JSON kind, an item that fails to decode) goes to
// encoding/json, so that its results, errors included, stay the contract.

// fastFields points at the fields of one request that the fast path may
// set. A nil pointer is a field the request does not have: its key sends
// the body to encoding/json, which ignores it or reports it as it always
// has.
type fastFields struct {
	tableName              **string
	conditionExpression    **string
	returnValues           **string
	returnConsumedCapacity **string
	consistentRead         **bool
	item                   *item.Item
	itemKey                string // item's JSON key, quoted: `"Item"` or `"Key"`
}

// decodeFast decodes body into req when the body is simple enough, and
// reports whether it did. When it did not, req is unchanged. The fields
// are decoded into a copy of the request, so a body that turns out not to
// be simple halfway through leaves nothing behind for encoding/json.
func decodeFast(body []byte, req any) bool {
	switch r := req.(type) {
	case *putItemRequest:
		c := *r
		if !decodeFields(body, fastFields{
			tableName:              &c.TableName,
			conditionExpression:    &c.ConditionExpression,
			returnValues:           &c.ReturnValues,
			returnConsumedCapacity: &c.ReturnConsumedCapacity,
			item:                   &c.Item,
			itemKey:                `"Item"`,
		}) {
			return false
		}
		*r = c
	case *getItemRequest:
		c := *r
		if !decodeFields(body, fastFields{
			tableName:              &c.TableName,
			returnConsumedCapacity: &c.ReturnConsumedCapacity,
			consistentRead:         &c.ConsistentRead,
			item:                   &c.Key,
			itemKey:                `"Key"`,
		}) {
			return false
		}
		*r = c
	case *deleteItemRequest:
		c := *r
		if !decodeFields(body, fastFields{
			tableName:              &c.TableName,
			conditionExpression:    &c.ConditionExpression,
			returnValues:           &c.ReturnValues,
			returnConsumedCapacity: &c.ReturnConsumedCapacity,
			item:                   &c.Key,
			itemKey:                `"Key"`,
		}) {
			return false
		}
		*r = c
	default:
		return false
	}
	return true
}

// decodeFields sets the fields f points at from body, reporting false as
// soon as the body needs encoding/json.
func decodeFields(body []byte, f fastFields) bool {
	var buf [8]item.JSONMember
	members, ok := item.ScanJSONObject(body, buf[:0])
	if !ok {
		return false
	}
	// Keys already seen, by bit: encoding/json lets a repeated key
	// overwrite (or, for an item, decode again), which is rare enough to
	// leave to it.
	const (
		seenTable = 1 << iota
		seenCondition
		seenReturnValues
		seenCapacity
		seenConsistent
		seenItem
	)
	var seen uint
	for _, m := range members {
		var bit uint
		switch key := m.Key; {
		case string(key) == `"TableName"` && f.tableName != nil:
			bit, ok = seenTable, setString(f.tableName, m.Value)
		case string(key) == `"ConditionExpression"` && f.conditionExpression != nil:
			bit, ok = seenCondition, setString(f.conditionExpression, m.Value)
		case string(key) == `"ReturnValues"` && f.returnValues != nil:
			bit, ok = seenReturnValues, setString(f.returnValues, m.Value)
		case string(key) == `"ReturnConsumedCapacity"` && f.returnConsumedCapacity != nil:
			bit, ok = seenCapacity, setString(f.returnConsumedCapacity, m.Value)
		case string(key) == `"ConsistentRead"` && f.consistentRead != nil:
			bit, ok = seenConsistent, setBool(f.consistentRead, m.Value)
		case string(key) == f.itemKey:
			// An item's errors are left to encoding/json too, which
			// reports them through decodeError as it always has.
			bit, ok = seenItem, m.Value[0] == '{' && f.item.UnmarshalJSON(m.Value) == nil
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return true
}

// setString sets *p to a new string when v is a JSON string.
func setString(p **string, v []byte) bool {
	s, ok := item.UnquoteJSONString(v)
	if ok {
		*p = &s
	}
	return ok
}

// setBool sets *p to a new bool when v is true or false.
func setBool(p **bool, v []byte) bool {
	var b bool
	switch string(v) {
	case "true":
		b = true
	case "false":
	default:
		return false
	}
	*p = &b
	return true
}
