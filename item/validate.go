package item

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
)

// Validate checks v against DynamoDB's rules for a stored value: a known
// type, NULL true, non-empty sets without duplicates, Numbers in range, and
// at most MaxDepth levels of nesting. Values decoded from JSON or the binary
// codec already satisfy it; code that builds values (update expressions)
// checks its results with it. Errors are *Error values with DynamoDB's
// messages.
func (v Value) Validate() error { return validateValue(v, 1) }

// Validate checks every attribute value of it, like Value.Validate.
func (it Item) Validate() error {
	for _, k := range sortedKeys(it) {
		if err := validateValue(it[k], 1); err != nil {
			return err
		}
	}
	return nil
}

// validateValue checks v found at nesting level (1 for an attribute).
func validateValue(v Value, level int) error {
	if level > MaxDepth {
		return validationError(msgDepth)
	}
	switch v.Type {
	case TypeS, TypeB, TypeBOOL, TypeNULL:
		return nil
	case TypeN:
		_, err := checked(v.N)
		return err
	case TypeM:
		return validateChildren(mapValues(v.M), level)
	case TypeL:
		return validateChildren(v.L, level)
	case TypeSS, TypeNS, TypeBS:
		return validateSet(v)
	}
	return validationError(msgEmptyValue)
}

func validateChildren(vs []Value, level int) error {
	for _, c := range vs {
		if err := validateValue(c, level+1); err != nil {
			return err
		}
	}
	return nil
}

// mapValues returns m's values in key order, so errors are deterministic.
func mapValues(m map[string]Value) []Value {
	out := make([]Value, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

// validateSet checks that a set is non-empty, its numbers valid and its
// members distinct.
func validateSet(v Value) error {
	if setLen(v) == 0 {
		return emptySetError(v.Type)
	}
	switch v.Type {
	case TypeSS:
		return checkDuplicates(v.SS, strings.Compare, func(s string) string { return s })
	case TypeNS:
		for _, n := range v.NS {
			if _, err := checked(n); err != nil {
				return err
			}
		}
		return checkDuplicates(v.NS, Number.Cmp, Number.String)
	default:
		return checkDuplicates(v.BS, bytes.Compare, base64.StdEncoding.EncodeToString)
	}
}

// setLen returns the number of members of a set value.
func setLen(v Value) int {
	switch v.Type {
	case TypeSS:
		return len(v.SS)
	case TypeNS:
		return len(v.NS)
	case TypeBS:
		return len(v.BS)
	}
	return 0
}

// checkDuplicates returns DynamoDB's error if s has two equal members.
func checkDuplicates[T any](s []T, cmp func(T, T) int, show func(T) string) error {
	if !hasDuplicates(s, cmp) {
		return nil
	}
	names := make([]string, len(s))
	for i, x := range s {
		names[i] = show(x)
	}
	return duplicatesError(names)
}

// hasDuplicates reports whether two members of s compare equal.
func hasDuplicates[T any](s []T, cmp func(T, T) int) bool {
	if len(s) < 2 {
		return false
	}
	sorted := slices.Clone(s)
	slices.SortFunc(sorted, cmp)
	for i := 1; i < len(sorted); i++ {
		if cmp(sorted[i-1], sorted[i]) == 0 {
			return true
		}
	}
	return false
}

// sortedKeys returns m's keys in byte order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
