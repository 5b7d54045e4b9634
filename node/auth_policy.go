package node

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/partitapb"
)

// AllowAllPolicy is the policy the bootstrap user gets: every DynamoDB
// action on every resource.
const AllowAllPolicy = "AllowAll"

// allowAllDocument is AllowAllPolicy's document.
const allowAllDocument = `{"Version":"2012-10-17","Statement":[{"Sid":"AllowAll","Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`

// attachAllowAll puts AllowAllPolicy (again) and attaches it to user.
func (n *Node) attachAllowAll(ctx context.Context, user string) error {
	_, err := n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_PutPolicy{PutPolicy: &partitapb.PutPolicy{
		Policy: &partitapb.Policy{Name: AllowAllPolicy, Document: allowAllDocument}}}})
	if err == nil {
		_, err = n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_AttachPolicy{AttachPolicy: &partitapb.AttachPolicy{
			User: user, Policy: AllowAllPolicy}}})
	}
	if err != nil {
		return fmt.Errorf("node: give the bootstrap user %s the policy %s: %w", user, AllowAllPolicy, err)
	}
	return nil
}
