package dynamo

import (
	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
)

// maxPageBytes is how much item data one Query or Scan page reads: the
// sum of the sizes of the evaluated items, before any filter.
const maxPageBytes = 1 << 20

// page collects one page of a Query or Scan: every item the walk visits is
// evaluated (counted, its size added), then filtered and projected. The
// walk stops when Limit items were evaluated or maxPageBytes were read.
type page struct {
	keys   keySchema
	limit  int // 0: no limit
	filter *expr.Condition
	proj   *expr.Projection
	count  bool // Select=COUNT: no items in the response
	// keep, without proj, names the attributes of the items to return
	// (a local index's projection, over items read whole for a filter).
	keep []string

	items   []item.Item
	matched int
	scanned int
	bytes   int
	last    item.Item // key of the last evaluated item
	stopped bool      // the walk was cut short: the page has a next one
}

// visit is the router.Visit of the page.
func (p *page) visit(it item.Item, size int) bool {
	p.scanned++
	p.bytes += size
	p.last = p.keys.keyOf(it)
	if p.filter == nil || evalFilter(p.filter, it) {
		p.matched++
		if !p.count {
			p.items = append(p.items, p.project(it))
		}
	}
	if (p.limit > 0 && p.scanned >= p.limit) || p.bytes >= maxPageBytes {
		p.stopped = true
		return false
	}
	return true
}

// evalFilter reports whether it passes the filter; an evaluation error
// (none is expected after parsing) drops the item.
func evalFilter(c *expr.Condition, it item.Item) bool {
	ok, err := c.Eval(it)
	return ok && err == nil
}

// project applies the projection to it.
func (p *page) project(it item.Item) item.Item {
	if p.proj == nil && p.keep != nil {
		out := item.Item{}
		for _, a := range p.keep {
			if v, ok := it[a]; ok {
				out[a] = v
			}
		}
		return out
	}
	if p.proj == nil {
		return it
	}
	out := p.proj.Apply(it)
	if out == nil {
		out = item.Item{}
	}
	return out
}

// pageResponse is the part of the Query and Scan outputs a page fills.
type pageResponse struct {
	Items            *[]item.Item      `json:"Items,omitempty"`
	Count            int               `json:"Count"`
	ScannedCount     int               `json:"ScannedCount"`
	LastEvaluatedKey item.Item         `json:"LastEvaluatedKey,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

// response shapes the page for the wire; capacity is what to report
// (ReturnConsumedCapacity) for table, read with consistent reads or not.
func (p *page) response(capacity *string, table string, consistent bool) *pageResponse {
	resp := &pageResponse{
		Count:            p.matched,
		ScannedCount:     p.scanned,
		ConsumedCapacity: consumed(capacity, table, readUnits(p.bytes, consistent)),
	}
	if !p.count {
		items := p.items
		if items == nil {
			items = []item.Item{}
		}
		resp.Items = &items
	}
	if p.stopped {
		resp.LastEvaluatedKey = p.last
	}
	return resp
}

// keyOf returns the key attributes of it.
func (ks keySchema) keyOf(it item.Item) item.Item {
	key := make(item.Item, len(ks))
	for _, k := range ks {
		if v, ok := it[k.name]; ok {
			key[k.name] = v
		}
	}
	return key
}

// hashKey returns the partition key attribute.
func (ks keySchema) hashKey() keyAttr {
	for _, k := range ks {
		if k.hash {
			return k
		}
	}
	return keyAttr{}
}

// rangeKey returns the sort key attribute, and false when there is none.
func (ks keySchema) rangeKey() (keyAttr, bool) {
	for _, k := range ks {
		if !k.hash {
			return k, true
		}
	}
	return keyAttr{}, false
}
