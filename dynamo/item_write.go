package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// writeOptions are the response-shaping parameters of the write operations.
type writeOptions struct {
	ReturnValues                        *string `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure *string `json:"ReturnValuesOnConditionCheckFailure"`
	ReturnConsumedCapacity              *string `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string `json:"ReturnItemCollectionMetrics"`
	// sizes asks for the item's sizes whatever the options say (a batch
	// counts the capacity its writes consume).
	sizes bool
}

// counted reports whether the response reports what the write's sizes
// decide: its consumed capacity, or its item collection's size.
func (o *writeOptions) counted() bool {
	return o.sizes || consumed(o.ReturnConsumedCapacity, "", 0) != nil || str(o.ReturnItemCollectionMetrics) == "SIZE"
}

// images reports which images of the item the response needs, given the
// answer res: those it returns, and both when it counts the sizes and res
// does not carry them (an older binary's answer). An image nobody reads
// is not decoded.
func (o *writeOptions) images(res *partitapb.Result) (needOld, needNew bool) {
	if o.counted() && !hasSizes(res) {
		return true, true
	}
	return o.returned()
}

// returned reports which images of the item the response returns as
// attributes (ReturnValues, ReturnValuesOnConditionCheckFailure): the
// ones a retry answered from the write's at-most-once record must find
// there (Command.record_old, record_new). The sizes alone (consumed
// capacity) are not worth a copy of the item in every record.
func (o *writeOptions) returned() (old, new bool) {
	switch str(o.ReturnValues) {
	case "ALL_OLD", "UPDATED_OLD":
		old = true
	case "ALL_NEW", "UPDATED_NEW":
		new = true
	}
	return old || str(o.ReturnValuesOnConditionCheckFailure) == "ALL_OLD", new
}

// checkReturnValues rejects a ReturnValues the operation does not support.
func (o *writeOptions) checkReturnValues(allowed ...string) error {
	if o.ReturnValues == nil {
		return nil
	}
	for _, a := range allowed {
		if *o.ReturnValues == a {
			return nil
		}
	}
	return validationf("Return values set to invalid value")
}

// returns reports whether ReturnValues is rv.
func (o *writeOptions) returns(rv string) bool { return str(o.ReturnValues) == rv }

// writeItemResponse is the output of PutItem, UpdateItem and DeleteItem.
type writeItemResponse struct {
	Attributes            item.Item              `json:"Attributes,omitempty"`
	ConsumedCapacity      *consumedCapacity      `json:"ConsumedCapacity,omitempty"`
	ItemCollectionMetrics *itemCollectionMetrics `json:"ItemCollectionMetrics,omitempty"`
}

// newCommand returns a command with a fresh id and the current time, not
// proposed yet.
func (s *Server) newCommand() *partitapb.Command {
	return &partitapb.Command{Id: s.cfg.NewID(), UnixNanos: s.cfg.Now().UnixNano(), FirstAttempt: true}
}

// images are the decoded before and after images of an applied write.
type images struct {
	old, new item.Item
	// oldSize and newSize are the item's sizes before and after the
	// write when the answer carried them (sized); otherwise the decoded
	// images' are.
	oldSize, newSize int
	sized            bool
	// collection is the size of the item's collection after the write,
	// on a table with local secondary indexes.
	collection int64
}

// hasSizes says res carries the item's sizes (not an older binary's
// answer, nor a record kept without them).
func hasSizes(res *partitapb.Result) bool { return res.OldSize != nil && res.NewSize != nil }

// units is the write capacity the write consumed.
func (im *images) units() float64 {
	if im.sized {
		return writeUnits(im.oldSize, im.newSize)
	}
	return writeUnits(sizeOf(im.old), sizeOf(im.new))
}

// write proposes cmd and returns the images of the item, or the error the
// wire shows for a rejection (with the old item when the request asked for
// it on a failed condition).
func (s *Server) write(ctx context.Context, t *partitapb.Table, key item.Item, cmd *partitapb.Command, o *writeOptions) (*images, error) {
	cmd.RecordOld, cmd.RecordNew = o.returned()
	cmd.RecordSizes = o.counted()
	res, err := s.cfg.Backend.Write(ctx, t, key, cmd)
	if isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return nil, s.notFound(t.GetName(), false)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: write to %q: %w", t.GetName(), err)
	}
	im, decodeErr := decodeImages(res, o)
	if res.GetError() != nil {
		return nil, s.rejection(res.GetError(), im, o)
	}
	if decodeErr != nil {
		return nil, decodeErr
	}
	im.collection = res.GetLocalCollectionBytes()
	return im, nil
}

// rejection maps an apply-time rejection to the wire.
func (s *Server) rejection(pe *partitapb.Error, im *images, o *writeOptions) error {
	ae, _ := fromDomain(pe)
	if pe.GetCode() == partitapb.Error_CONDITION_FAILED {
		ae = &apiError{Kind: kindConditionFailed, Message: msgConditionFailed}
		if str(o.ReturnValuesOnConditionCheckFailure) == "ALL_OLD" && im != nil && im.old != nil {
			ae.Item = im.old
		}
	}
	return ae
}

// decodeImages decodes the images a result carries that o needs.
func decodeImages(res *partitapb.Result, o *writeOptions) (*images, error) {
	im := &images{}
	if hasSizes(res) {
		im.oldSize, im.newSize, im.sized = int(res.GetOldSize()), int(res.GetNewSize()), true
	}
	var err error
	needOld, needNew := o.images(res)
	if needOld && res.GetHasOld() {
		if im.old, err = item.DecodeItem(res.GetOldItem()); err != nil {
			return nil, fmt.Errorf("dynamo: decode old image: %w", err)
		}
	}
	if needNew && res.GetHasNew() {
		if im.new, err = item.DecodeItem(res.GetNewItem()); err != nil {
			return nil, fmt.Errorf("dynamo: decode new image: %w", err)
		}
	}
	return im, nil
}

// writeCapacity is the ConsumedCapacity of a write with images im.
func writeCapacity(o *writeOptions, table string, im *images) *consumedCapacity {
	if o.ReturnConsumedCapacity == nil {
		return nil
	}
	return consumed(o.ReturnConsumedCapacity, table, im.units())
}

// sizeOf is the size of it, 0 for no item.
func sizeOf(it item.Item) int {
	if it == nil {
		return 0
	}
	return it.Size()
}

// nonEmpty returns it, or nil when it has no attributes.
func nonEmpty(it item.Item) item.Item {
	if len(it) == 0 {
		return nil
	}
	return it
}
