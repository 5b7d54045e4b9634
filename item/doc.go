// Package item holds DynamoDB attribute values and everything Partita does
// with them that needs no I/O: exact decimal Numbers, equality and
// ordering, the JSON wire format, the binary codec for storage and raft,
// the order-preserving key encoding, partition hashing and size accounting.
//
// # Values
//
// A Value is one AttributeValue; Type says which field holds it. Build
// scalars with S, N, B, Bool and Null, containers as literals:
//
//	v := item.Value{Type: item.TypeM, M: map[string]item.Value{
//		"price": item.N(item.MustNumber("9.99")),
//		"tags":  {Type: item.TypeSS, SS: []string{"new", "sale"}},
//	}}
//
// Values are immutable once built; Clone makes a deep copy when a caller
// must change one. Equal compares values the way DynamoDB does (sets
// ignore order), and Compare orders S, N and B values for key conditions.
//
// # Numbers
//
// A Number is an exact decimal with up to 38 significant digits and a
// magnitude between 1E-130 and 9.99...E+125, kept in canonical form so ==
// is numeric equality. ParseNumber accepts what DynamoDB accepts ("+1",
// ".5", "5.", "1.5E+3") and returns DynamoDB's messages for the rest;
// String prints plain decimal ("100", "0.001") as DynamoDB responses do.
// Add and Sub are exact and fail as DynamoDB does on overflow or on results
// needing more than 38 digits.
//
// # Wire format
//
// Value and Item implement json.Marshaler and json.Unmarshaler for the
// AttributeValue JSON of the DynamoDB API. Decoding validates like
// DynamoDB: every failure is an *Error carrying DynamoDB's message, with
// Serialization set when DynamoDB would answer SerializationException
// (wrong JSON types, bad base64) rather than ValidationException:
//
//	var req struct{ Item item.Item }
//	if err := json.Unmarshal(body, &req); err != nil {
//		var e *item.Error
//		if errors.As(err, &e) { /* answer with e.Msg */ }
//	}
//
// # Storage encodings
//
// EncodeItem/AppendItem and DecodeItem are the compact binary codec for
// stored items and raft commands: deterministic (names and map keys
// sorted), versioned by a leading format byte, and safe on arbitrary
// input. AppendKey and DecodeKey encode S, N and B key values so that
// bytes.Compare agrees with Compare and encodings concatenate (partition
// key, then sort key) without ambiguity. Hash places a partition key value
// in the 64-bit hash space. All three are persistent formats: they must
// never change.
//
// # Sizes
//
// Value.Size and Item.Size follow DynamoDB's accounting; MaxItemSize,
// MaxPartitionKeySize, MaxSortKeySize and MaxDepth are its limits.
package item
