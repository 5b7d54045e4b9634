package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/partitadb/partita/partitapb"
)

// tagResourceRequest is TagResource's input.
type tagResourceRequest struct {
	ResourceArn *string   `json:"ResourceArn"`
	Tags        []wireTag `json:"Tags"`
}

// untagResourceRequest is UntagResource's input.
type untagResourceRequest struct {
	ResourceArn *string  `json:"ResourceArn"`
	TagKeys     []string `json:"TagKeys"`
}

// listTagsRequest is ListTagsOfResource's input.
type listTagsRequest struct {
	ResourceArn *string `json:"ResourceArn"`
	NextToken   *string `json:"NextToken"`
}

// listTagsResponse is ListTagsOfResource's output.
type listTagsResponse struct {
	Tags []tagOut `json:"Tags"`
}

// emptyResponse is the output of operations that return nothing.
type emptyResponse struct{}

func (s *Server) handleTagResource(ctx context.Context, r *request) (any, error) {
	var req tagResourceRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.resourceARN(req.ResourceArn)
	v.notNull(req.Tags != nil, "tags")
	v.tags(req.Tags, "tags")
	if err := v.err(); err != nil {
		return nil, err
	}
	if len(req.Tags) == 0 {
		return nil, validationf("Atleast one Tag needs to be provided as Input.")
	}
	if err := checkTags(req.Tags); err != nil {
		return nil, err
	}
	return s.retag(ctx, *req.ResourceArn, func(tags []*partitapb.Tag) ([]*partitapb.Tag, error) {
		return mergeTags(tags, tagsToProto(req.Tags))
	})
}

func (s *Server) handleUntagResource(ctx context.Context, r *request) (any, error) {
	var req untagResourceRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.resourceARN(req.ResourceArn)
	v.notNull(req.TagKeys != nil, "tagKeys")
	for i := range req.TagKeys {
		v.length(&req.TagKeys[i], fmt.Sprintf("tagKeys.%d.member", i+1), 1, 128)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if len(req.TagKeys) == 0 {
		return nil, validationf("Atleast one Tag Key needs to be provided as Input.")
	}
	drop := map[string]bool{}
	for _, k := range req.TagKeys {
		drop[k] = true
	}
	return s.retag(ctx, *req.ResourceArn, func(tags []*partitapb.Tag) ([]*partitapb.Tag, error) {
		var kept []*partitapb.Tag
		for _, t := range tags {
			if !drop[t.GetKey()] {
				kept = append(kept, t)
			}
		}
		return kept, nil
	})
}

func (s *Server) handleListTagsOfResource(ctx context.Context, r *request) (any, error) {
	var req listTagsRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.resourceARN(req.ResourceArn)
	if err := v.err(); err != nil {
		return nil, err
	}
	t, err := s.tableByARN(ctx, *req.ResourceArn)
	if err != nil {
		return nil, err
	}
	resp := &listTagsResponse{Tags: []tagOut{}}
	for _, tag := range t.GetTags() {
		resp.Tags = append(resp.Tags, tagOut{Key: tag.GetKey(), Value: tag.GetValue()})
	}
	return resp, nil
}

// resourceARN checks a ResourceArn parameter's presence and length.
func (v *violations) resourceARN(arn *string) {
	v.notNull(arn != nil, "resourceArn")
	v.length(arn, "resourceArn", 1, 1283)
}

// tableByARN returns the table a ResourceArn names, with DynamoDB's errors
// for a malformed ARN and an unknown table.
func (s *Server) tableByARN(ctx context.Context, arn string) (*partitapb.Table, error) {
	if !strings.HasPrefix(arn, "arn:aws:dynamodb:") || !strings.Contains(arn, ":table/") {
		return nil, validationf("Invalid TableArn: Invalid ResourceArn provided as input %s", arn)
	}
	name, ok := s.tableNameFromARN(arn)
	if !ok {
		return nil, arnNotFound(arn)
	}
	t, err := s.lookupTable(ctx, name, true)
	if isResourceNotFound(err) {
		return nil, arnNotFound(arn)
	}
	return t, err
}

// arnNotFound is DynamoDB's ResourceNotFoundException for a tag operation
// (its message spells the parameter "ResourcArn").
func arnNotFound(arn string) error {
	return newError(kindResourceNotFound, "Requested resource not found: ResourcArn: %s not found", arn)
}

// isResourceNotFound reports whether err is a ResourceNotFoundException.
func isResourceNotFound(err error) bool {
	ae, ok := err.(*apiError)
	return ok && ae.Kind == kindResourceNotFound
}

// retag replaces the tags of the table arn names with edit's result.
func (s *Server) retag(ctx context.Context, arn string, edit func([]*partitapb.Tag) ([]*partitapb.Tag, error)) (any, error) {
	t, err := s.tableByARN(ctx, arn)
	if err != nil {
		return nil, err
	}
	_, err = s.cfg.Backend.UpdateTable(ctx, t.GetName(), func(t *partitapb.Table) (*partitapb.Table, error) {
		tags, err := edit(t.GetTags())
		if err != nil {
			return nil, err
		}
		t.Tags = tags
		return t, nil
	})
	switch {
	case isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND):
		return nil, arnNotFound(arn)
	case err != nil:
		return nil, fmt.Errorf("dynamo: tag table %q: %w", t.GetName(), err)
	}
	return &emptyResponse{}, nil
}

// mergeTags sets add's tags over tags, keeping the order of first
// appearance, within the per-table limit.
func mergeTags(tags, add []*partitapb.Tag) ([]*partitapb.Tag, error) {
	out := make([]*partitapb.Tag, 0, len(tags)+len(add))
	index := map[string]int{}
	for _, t := range append(append([]*partitapb.Tag{}, tags...), add...) {
		if i, ok := index[t.GetKey()]; ok {
			out[i] = t
			continue
		}
		index[t.GetKey()] = len(out)
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, newError(kindLimitExceeded, "The number of tags exceeds the limit of %d per resource", maxTags)
	}
	return out, nil
}
