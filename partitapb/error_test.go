package partitapb

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorTravelsAsAGoError(t *testing.T) {
	err := fmt.Errorf("router: %w", Errorf(Error_TABLE_NOT_FOUND, "Requested resource not found: Table: %s not found", "t"))
	var perr *Error
	if !errors.As(err, &perr) || perr.GetCode() != Error_TABLE_NOT_FOUND {
		t.Fatalf("errors.As lost the code: %v", err)
	}
	if perr.Error() != "Requested resource not found: Table: t not found" {
		t.Fatalf("message %q", perr.Error())
	}
}

func TestIsWrongRange(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{(*Error)(nil), false},
		{errors.New("WRONG_RANGE"), false},
		{Errorf(Error_VALIDATION, "no"), false},
		{Errorf(Error_WRONG_RANGE, "moved"), true},
		{fmt.Errorf("router: %w", Errorf(Error_WRONG_RANGE, "moved")), true},
	} {
		if got := IsWrongRange(c.err); got != c.want {
			t.Errorf("IsWrongRange(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
