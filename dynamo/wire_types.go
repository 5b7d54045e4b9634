package dynamo

// Request and response shapes shared by several operations. Request fields
// are pointers so that absent (or null) parameters can be told from zero
// values; responses omit what DynamoDB omits.

// keySchemaElement is one entry of a KeySchema.
type keySchemaElement struct {
	AttributeName *string `json:"AttributeName"`
	KeyType       *string `json:"KeyType"`
}

// attributeDefinition is one entry of AttributeDefinitions.
type attributeDefinition struct {
	AttributeName *string `json:"AttributeName"`
	AttributeType *string `json:"AttributeType"`
}

// provisionedThroughput is the ProvisionedThroughput request parameter.
type provisionedThroughput struct {
	ReadCapacityUnits  *int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits *int64 `json:"WriteCapacityUnits"`
}

// wireTag is one entry of Tags.
type wireTag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

// keySchemaOut is a KeySchema entry in a response.
type keySchemaOut struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

// attributeDefinitionOut is an AttributeDefinitions entry in a response.
type attributeDefinitionOut struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

// tagOut is a tag in a response.
type tagOut struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// throughputDescription is ProvisionedThroughputDescription.
type throughputDescription struct {
	LastIncreaseDateTime   *float64 `json:"LastIncreaseDateTime,omitempty"`
	LastDecreaseDateTime   *float64 `json:"LastDecreaseDateTime,omitempty"`
	NumberOfDecreasesToday int64    `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64    `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64    `json:"WriteCapacityUnits"`
}

// billingModeSummary is BillingModeSummary.
type billingModeSummary struct {
	BillingMode                       string   `json:"BillingMode"`
	LastUpdateToPayPerRequestDateTime *float64 `json:"LastUpdateToPayPerRequestDateTime,omitempty"`
}

// tableClassSummary is TableClassSummary.
type tableClassSummary struct {
	TableClass string `json:"TableClass"`
}

// tableDescription is TableDescription.
type tableDescription struct {
	AttributeDefinitions      []attributeDefinitionOut `json:"AttributeDefinitions"`
	TableName                 string                   `json:"TableName"`
	KeySchema                 []keySchemaOut           `json:"KeySchema"`
	TableStatus               string                   `json:"TableStatus"`
	CreationDateTime          float64                  `json:"CreationDateTime"`
	ProvisionedThroughput     throughputDescription    `json:"ProvisionedThroughput"`
	TableSizeBytes            int64                    `json:"TableSizeBytes"`
	ItemCount                 int64                    `json:"ItemCount"`
	TableArn                  string                   `json:"TableArn"`
	TableId                   string                   `json:"TableId"`
	BillingModeSummary        *billingModeSummary      `json:"BillingModeSummary,omitempty"`
	DeletionProtectionEnabled bool                     `json:"DeletionProtectionEnabled"`
	TableClassSummary         *tableClassSummary       `json:"TableClassSummary,omitempty"`
	LocalSecondaryIndexes     []localIndexDescription  `json:"LocalSecondaryIndexes,omitempty"`
	GlobalSecondaryIndexes    []globalIndexDescription `json:"GlobalSecondaryIndexes,omitempty"`
	StreamSpecification       *streamSpecDescription   `json:"StreamSpecification,omitempty"`
	LatestStreamArn           string                   `json:"LatestStreamArn,omitempty"`
	LatestStreamLabel         string                   `json:"LatestStreamLabel,omitempty"`
	RestoreSummary            *restoreSummary          `json:"RestoreSummary,omitempty"`
}

// consumedCapacity is ConsumedCapacity.
type consumedCapacity struct {
	TableName          string           `json:"TableName"`
	CapacityUnits      float64          `json:"CapacityUnits"`
	ReadCapacityUnits  *float64         `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits *float64         `json:"WriteCapacityUnits,omitempty"`
	Table              *capacityElement `json:"Table,omitempty"`
}

// capacityElement is the Capacity shape (the Table part of INDEXES).
type capacityElement struct {
	CapacityUnits      float64  `json:"CapacityUnits"`
	ReadCapacityUnits  *float64 `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits *float64 `json:"WriteCapacityUnits,omitempty"`
}

// Enumerations of request parameters.
var (
	keyTypes            = []string{"HASH", "RANGE"}
	scalarTypes         = []string{"B", "N", "S"}
	billingModes        = []string{"PROVISIONED", "PAY_PER_REQUEST"}
	tableClasses        = []string{"STANDARD", "STANDARD_INFREQUENT_ACCESS"}
	returnValuesEnum    = []string{"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"}
	returnCapacityEnum  = []string{"INDEXES", "TOTAL", "NONE"}
	returnMetricsEnum   = []string{"SIZE", "NONE"}
	conditionalOpEnum   = []string{"OR", "AND"}
	returnOnFailureEnum = []string{"ALL_OLD", "NONE"}
)

// str returns *p, or "" for nil.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
