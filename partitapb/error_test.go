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
