package operator

import (
	"errors"

	"github.com/partitadb/partita/replica"
)

// ErrNoNode is returned by an operator on a node the directory does not
// list.
var ErrNoNode = errors.New("operator: no such node in the directory")

func isNotLeader(err error) bool {
	var nl *replica.NotLeaderError
	return errors.As(err, &nl)
}
