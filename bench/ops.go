package bench

import (
	"context"
	"errors"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// items knows the layout of the run's items and issues the operations on
// them. It is shared by the clients and read-only.
type items struct {
	table          string
	rangeKey       bool
	consistentRead bool
	maxScan        int
	txnItems       int
}

// key returns the primary key of item i.
func (it items) key(i int64) map[string]types.AttributeValue {
	if it.rangeKey {
		return map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: groupKey(i)},
			attrSK: &types.AttributeValueMemberS{Value: sortKey(i)},
		}
	}
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: itemKey(i)}}
}

func (it items) insert(ctx context.Context, db *dynamodb.Client, i int64, value []byte) error {
	item := it.key(i)
	item[attrValue] = &types.AttributeValueMemberB{Value: value}
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(it.table), Item: item})
	return err
}

func (it items) read(ctx context.Context, db *dynamodb.Client, i int64) error {
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(it.table), Key: it.key(i), ConsistentRead: aws.Bool(it.consistentRead),
	})
	return err
}

func (it items) update(ctx context.Context, db *dynamodb.Client, i int64, value []byte) error {
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(it.table),
		Key:                       it.key(i),
		UpdateExpression:          aws.String("SET #v = :v"),
		ExpressionAttributeNames:  map[string]string{"#v": attrValue},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberB{Value: value}},
	})
	return err
}

// add adds 1 to item i's counter.
func (it items) add(ctx context.Context, db *dynamodb.Client, i int64) error {
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(it.table),
		Key:                       it.key(i),
		UpdateExpression:          aws.String("ADD #n :one"),
		ExpressionAttributeNames:  map[string]string{"#n": attrCounter},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
	})
	return err
}

// conditional writes item i's payload if the item has one (loaded items
// do: the condition holds, and is checked on every write).
func (it items) conditional(ctx context.Context, db *dynamodb.Client, i int64, value []byte) error {
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(it.table),
		Key:                       it.key(i),
		UpdateExpression:          aws.String("SET #v = :v"),
		ConditionExpression:       aws.String("attribute_exists(#v)"),
		ExpressionAttributeNames:  map[string]string{"#v": attrValue},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberB{Value: value}},
	})
	return err
}

// transact updates the payloads of items keys in one TransactWriteItems.
func (it items) transact(ctx context.Context, db *dynamodb.Client, keys map[int64]bool, value []byte) error {
	actions := make([]types.TransactWriteItem, 0, len(keys))
	for i := range keys {
		actions = append(actions, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(it.table),
			Key:                       it.key(i),
			UpdateExpression:          aws.String("SET #v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": attrValue},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberB{Value: value}},
		}})
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
	return err
}

// scan reads up to length items of item i's group, from item i on.
func (it items) scan(ctx context.Context, db *dynamodb.Client, i int64, length int) error {
	_, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(it.table),
		KeyConditionExpression: aws.String("pk = :g AND sk >= :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":g": &types.AttributeValueMemberS{Value: groupKey(i)},
			":s": &types.AttributeValueMemberS{Value: sortKey(i)},
		},
		Limit:          aws.Int32(int32(length)),
		ConsistentRead: aws.Bool(it.consistentRead),
	})
	return err
}

// readModifyWrite reads item i, then writes it back with a new payload.
func (it items) readModifyWrite(ctx context.Context, db *dynamodb.Client, i int64, value []byte) error {
	if err := it.read(ctx, db, i); err != nil {
		return err
	}
	return it.update(ctx, db, i, value)
}

// do issues one operation of kind op for a client.
func (it items) do(ctx context.Context, c *client, op Op) error {
	switch op {
	case OpRead:
		return it.read(ctx, c.db, c.existing())
	case OpUpdate:
		return it.update(ctx, c.db, c.existing(), c.value)
	case OpInsert:
		return it.insert(ctx, c.db, c.keys.claim(), c.value)
	case OpScan:
		return it.scan(ctx, c.db, c.existing(), 1+c.rng.IntN(it.maxScan))
	case OpRMW:
		return it.readModifyWrite(ctx, c.db, c.existing(), c.value)
	case OpAdd:
		return it.add(ctx, c.db, c.existing())
	case OpCond:
		return it.conditional(ctx, c.db, c.existing(), c.value)
	case OpTxn:
		keys := map[int64]bool{}
		for tries := 0; len(keys) < it.txnItems && tries < 100*it.txnItems; tries++ {
			keys[c.existing()] = true
		}
		return it.transact(ctx, c.db, keys, c.value)
	}
	panic("bench: unknown operation")
}

// errorCode names an error for the report: the API error code, or
// "transport" for everything below the API (connection refused, timeout).
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return "transport"
}

// payload returns size random bytes: incompressible, like YCSB's fields.
func payload(rng *rand.Rand, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
