package dynamo

import (
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// DynamoDB's messages about keys and item sizes.
const (
	msgKeySchemaMismatch = "The provided key element does not match the schema"
	msgHashKeyTooLarge   = msgInvalidParams + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
	msgRangeKeyTooLarge  = msgInvalidParams + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
)

// keyAttr is one attribute of a table's primary key.
type keyAttr struct {
	name string
	typ  item.Type
	hash bool
}

// keySchema is a table's primary key: the partition key, then the sort key
// if the table has one.
type keySchema []keyAttr

// schemaOf returns the primary key of t.
func schemaOf(t *partitapb.Table) keySchema {
	types := map[string]item.Type{}
	for _, d := range t.GetAttributeDefinitions() {
		typ, _ := item.ParseType(d.GetAttributeType())
		types[d.GetAttributeName()] = typ
	}
	var ks keySchema
	for _, k := range t.GetKeySchema() {
		ks = append(ks, keyAttr{name: k.GetAttributeName(), typ: types[k.GetAttributeName()], hash: k.GetKeyType() == "HASH"})
	}
	return ks
}

// names returns the key attribute names.
func (ks keySchema) names() []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.name
	}
	return out
}

// has reports whether name is a key attribute.
func (ks keySchema) has(name string) bool {
	for _, k := range ks {
		if k.name == name {
			return true
		}
	}
	return false
}

// checkKey validates a Key parameter against the schema.
func (ks keySchema) checkKey(key item.Item) error {
	if len(key) != len(ks) {
		return validationf("%s", msgKeySchemaMismatch)
	}
	for _, k := range ks {
		v, ok := key[k.name]
		if !ok || v.Type != k.typ {
			return validationf("%s", msgKeySchemaMismatch)
		}
	}
	return ks.checkKeyValues(key)
}

// keyOfItem validates the key attributes of a whole item (PutItem) and
// returns them as a key.
func (ks keySchema) keyOfItem(it item.Item) (item.Item, error) {
	key := make(item.Item, len(ks))
	for _, k := range ks {
		v, ok := it[k.name]
		if !ok {
			return nil, validationf("%sMissing the key %s in the item", msgInvalidParams, k.name)
		}
		if v.Type != k.typ {
			return nil, validationf("%sType mismatch for key %s expected: %s actual: %s", msgInvalidParams, k.name, k.typ, v.Type)
		}
		key[k.name] = v
	}
	return key, ks.checkKeyValues(key)
}

// checkKeyValues rejects empty and oversized key values.
func (ks keySchema) checkKeyValues(key item.Item) error {
	for _, k := range ks {
		v := key[k.name]
		if v.Type == item.TypeS && v.S == "" {
			return validationf("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", k.name)
		}
		if v.Type == item.TypeB && len(v.B) == 0 {
			return validationf("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: %s", k.name)
		}
	}
	for _, k := range ks {
		size := key[k.name].Size()
		if k.hash && size > item.MaxPartitionKeySize {
			return validationf("%s", msgHashKeyTooLarge)
		}
		if !k.hash && size > item.MaxSortKeySize {
			return validationf("%s", msgRangeKeyTooLarge)
		}
	}
	return nil
}

// msgEmptyAttributeName answers an item with an attribute named ""
// (DynamoDB's wording is not documented; docs/protocol.md).
const msgEmptyAttributeName = msgInvalidParams + "An attribute name may not be empty"

// checkItem rejects an item to be written that has an attribute with an
// empty name, or that is larger than DynamoDB stores.
func checkItem(it item.Item) error {
	if _, ok := it[""]; ok {
		return validationf("%s", msgEmptyAttributeName)
	}
	if it.Size() > item.MaxItemSize {
		return validationf("%s", msgItemTooLarge)
	}
	return nil
}
