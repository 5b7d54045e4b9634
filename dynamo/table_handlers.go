package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// createTableRequest is CreateTable's input.
type createTableRequest struct {
	TableName                 *string                `json:"TableName"`
	AttributeDefinitions      []attributeDefinition  `json:"AttributeDefinitions"`
	KeySchema                 []keySchemaElement     `json:"KeySchema"`
	BillingMode               *string                `json:"BillingMode"`
	ProvisionedThroughput     *provisionedThroughput `json:"ProvisionedThroughput"`
	Tags                      []wireTag              `json:"Tags"`
	DeletionProtectionEnabled *bool                  `json:"DeletionProtectionEnabled"`
	TableClass                *string                `json:"TableClass"`
	LocalSecondaryIndexes     []localIndexRequest    `json:"LocalSecondaryIndexes"`
	GlobalSecondaryIndexes    []globalIndexRequest   `json:"GlobalSecondaryIndexes"`
	StreamSpecification       *streamSpecification   `json:"StreamSpecification"`
}

// streamSpecification is the StreamSpecification parameter.
type streamSpecification struct {
	StreamEnabled  *bool   `json:"StreamEnabled"`
	StreamViewType *string `json:"StreamViewType"`
}

// tableResponse is the output of CreateTable, DeleteTable and UpdateTable.
type tableResponse struct {
	TableDescription *tableDescription `json:"TableDescription"`
}

func (s *Server) handleCreateTable(ctx context.Context, r *request) (any, error) {
	var req createTableRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := s.checkCreateTable(&req); err != nil {
		return nil, err
	}
	if err := s.checkStreamsAllowed(req.StreamSpecification); err != nil {
		return nil, err
	}
	rec := s.newTableRecord(&req)
	t, err := s.cfg.Backend.CreateTable(ctx, rec)
	if isDomainCode(err, partitapb.Error_TABLE_IN_USE) {
		return nil, newError(kindResourceInUse, "Table already exists: %s", rec.GetName())
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: create table: %w", err)
	}
	if t.GetStream() != nil {
		s.streamsChanged(ctx)
	}
	return &tableResponse{TableDescription: s.describe(t, 0, 0)}, nil
}

// checkCreateTable validates a CreateTable request in DynamoDB's order:
// the table name's pattern is reported between AttributeDefinitions and
// KeySchema, as DynamoDB was recorded doing (docs/protocol.md).
func (s *Server) checkCreateTable(req *createTableRequest) error {
	var v violations
	v.attributeDefinitions(req.AttributeDefinitions, req.AttributeDefinitions != nil)
	if err := tableParam(req.TableName, &v); err != nil {
		return err
	}
	v.keySchemaOnly(req.KeySchema, req.KeySchema != nil)
	v.enum(req.BillingMode, "billingMode", billingModes...)
	v.enum(req.TableClass, "tableClass", tableClasses...)
	v.throughput(req.ProvisionedThroughput, "provisionedThroughput")
	v.tags(req.Tags, "tags")
	v.globalIndexes(req.GlobalSecondaryIndexes)
	v.localIndexes(req.LocalSecondaryIndexes)
	if err := v.err(); err != nil {
		return err
	}
	if err := checkBilling(req.BillingMode, req.ProvisionedThroughput); err != nil {
		return err
	}
	if err := checkKeySchema(req.KeySchema, req.AttributeDefinitions); err != nil {
		return err
	}
	if err := checkGlobalIndexes(req); err != nil {
		return err
	}
	if err := checkLocalIndexes(req); err != nil {
		return err
	}
	if err := checkUnusedDefinitions(req); err != nil {
		return err
	}
	if err := checkStreamSpecCreate(req.StreamSpecification); err != nil {
		return err
	}
	return checkTags(req.Tags)
}

// newTableRecord converts a checked CreateTable request to a catalog record.
func (s *Server) newTableRecord(req *createTableRequest) *partitapb.Table {
	t := &partitapb.Table{
		Name:                      s.resolveTableNameForCreate(*req.TableName),
		Status:                    statusCreating,
		CreationUnixNanos:         s.cfg.Now().UnixNano(),
		BillingMode:               billingProvisioned,
		Tags:                      tagsToProto(req.Tags),
		DeletionProtectionEnabled: req.DeletionProtectionEnabled != nil && *req.DeletionProtectionEnabled,
		TableClass:                str(req.TableClass),
	}
	if str(req.BillingMode) == billingPayPerRequest {
		t.BillingMode = billingPayPerRequest
	}
	if pt := req.ProvisionedThroughput; pt != nil {
		t.ReadCapacityUnits, t.WriteCapacityUnits = *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
	}
	if sp := req.StreamSpecification; sp != nil && *sp.StreamEnabled {
		enableStream(t, *sp.StreamViewType, s.cfg.Now())
	}
	for _, k := range req.KeySchema {
		t.KeySchema = append(t.KeySchema, &partitapb.KeyElement{AttributeName: *k.AttributeName, KeyType: *k.KeyType})
	}
	for _, a := range req.AttributeDefinitions {
		t.AttributeDefinitions = append(t.AttributeDefinitions,
			&partitapb.AttributeDefinition{AttributeName: *a.AttributeName, AttributeType: *a.AttributeType})
	}
	t.GlobalIndexes = globalIndexRecords(t.GetName(), req.GlobalSecondaryIndexes, string(directory.Active))
	t.LocalIndexes = localIndexRecords(req)
	t.ChangeView = fsm.TableLogView(t)
	return t
}

// resolveTableNameForCreate accepts an ARN of this node's account as the
// name of a table to create.
func (s *Server) resolveTableNameForCreate(param string) string {
	if name, ok := s.tableNameFromARN(param); ok {
		return name
	}
	return param
}

// tableNameRequest is the input of DescribeTable and DeleteTable.
type tableNameRequest struct {
	TableName *string `json:"TableName"`
}

// describeTableResponse is DescribeTable's output.
type describeTableResponse struct {
	Table *tableDescription `json:"Table"`
}

// namedTable decodes a request that names one table (TableName, a name
// or an ARN) and returns the table's record.
func (s *Server) namedTable(ctx context.Context, r *request) (*partitapb.Table, error) {
	var req tableNameRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := checkTableParam(req.TableName); err != nil {
		return nil, err
	}
	return s.lookupTable(ctx, *req.TableName, true)
}

func (s *Server) handleDescribeTable(ctx context.Context, r *request) (any, error) {
	t, err := s.namedTable(ctx, r)
	if err != nil {
		return nil, err
	}
	items, bytes, err := s.cfg.Backend.TableStats(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("dynamo: table stats of %q: %w", t.GetName(), err)
	}
	d := s.describe(t, items, bytes)
	d.GlobalSecondaryIndexes = s.describeIndexes(t, s.indexStats(ctx, t))
	d.LocalSecondaryIndexes = s.describeLocalIndexes(t, s.localIndexStats(ctx, t))
	return &describeTableResponse{Table: d}, nil
}

func (s *Server) handleDeleteTable(ctx context.Context, r *request) (any, error) {
	var req tableNameRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := checkTableParam(req.TableName); err != nil {
		return nil, err
	}
	t, err := s.lookupTable(ctx, *req.TableName, true)
	if err != nil {
		return nil, err
	}
	if t.GetDeletionProtectionEnabled() {
		return nil, validationf("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	}
	if tableStatus(t) == statusCreating {
		return nil, newError(kindResourceInUse, "Attempt to change a resource which is still in use: Table is being created: %s", t.GetName())
	}
	deleted, err := s.cfg.Backend.DeleteTable(ctx, t.GetName())
	if isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return nil, s.notFound(*req.TableName, true)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: delete table %q: %w", t.GetName(), err)
	}
	return &tableResponse{TableDescription: s.describe(deleted, 0, 0)}, nil
}
