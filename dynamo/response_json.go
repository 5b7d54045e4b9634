package dynamo

import (
	"strconv"

	"github.com/partitadb/partita/item"
)

// The item reads' responses are written without encoding/json: it checks
// and compacts again every byte that a json.Marshaler returns, and items
// (item.Item's MarshalJSON) are most of a GetItem, Query or Scan answer.
// On 64-client GetItem that second pass took 6% of a node's CPU. The
// bytes are those encoding/json writes (TestResponseJSONMatchesEncoding).

// jsonAppender is a response that appends its own JSON form.
type jsonAppender interface {
	appendJSON(dst []byte) ([]byte, error)
}

// appendJSON appends r as encoding/json would write it.
func (r *getItemResponse) appendJSON(dst []byte) ([]byte, error) {
	var err error
	o := objectWriter{dst: dst}
	if r.Item != nil {
		o.field("Item")
		if o.dst, err = item.AppendItemJSON(o.dst, *r.Item); err != nil {
			return nil, err
		}
	}
	if err := o.capacity(r.ConsumedCapacity); err != nil {
		return nil, err
	}
	return o.end(), nil
}

// appendJSON appends r as encoding/json would write it.
func (r *pageResponse) appendJSON(dst []byte) ([]byte, error) {
	var err error
	o := objectWriter{dst: dst}
	if r.Items != nil {
		o.field("Items")
		o.dst = append(o.dst, '[')
		for i, it := range *r.Items {
			if i > 0 {
				o.dst = append(o.dst, ',')
			}
			if o.dst, err = item.AppendItemJSON(o.dst, it); err != nil {
				return nil, err
			}
		}
		o.dst = append(o.dst, ']')
	}
	o.field("Count")
	o.dst = strconv.AppendInt(o.dst, int64(r.Count), 10)
	o.field("ScannedCount")
	o.dst = strconv.AppendInt(o.dst, int64(r.ScannedCount), 10)
	if len(r.LastEvaluatedKey) > 0 {
		o.field("LastEvaluatedKey")
		if o.dst, err = item.AppendItemJSON(o.dst, r.LastEvaluatedKey); err != nil {
			return nil, err
		}
	}
	if err := o.capacity(r.ConsumedCapacity); err != nil {
		return nil, err
	}
	return o.end(), nil
}

// objectWriter appends a JSON object's fields, the separators between
// them, and its braces.
type objectWriter struct {
	dst    []byte
	fields int
}

// field starts the field name (a name that needs no escaping).
func (o *objectWriter) field(name string) {
	if o.fields == 0 {
		o.dst = append(o.dst, '{')
	} else {
		o.dst = append(o.dst, ',')
	}
	o.fields++
	o.dst = append(o.dst, '"')
	o.dst = append(o.dst, name...)
	o.dst = append(o.dst, `":`...)
}

// capacity appends ConsumedCapacity, when there is one, through
// encoding/json (a small struct).
func (o *objectWriter) capacity(c *consumedCapacity) error {
	if c == nil {
		return nil
	}
	b, err := marshalResponse(c)
	if err != nil {
		return err
	}
	o.field("ConsumedCapacity")
	o.dst = append(o.dst, b...)
	return nil
}

// end closes the object ({} when it has no field).
func (o *objectWriter) end() []byte {
	if o.fields == 0 {
		return append(o.dst, "{}"...)
	}
	return append(o.dst, '}')
}
