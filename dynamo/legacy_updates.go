package dynamo

import (
	"strings"

	"github.com/partitadb/partita/item"
)

// attributeUpdate is one entry of the legacy AttributeUpdates parameter.
type attributeUpdate struct {
	Action *string     `json:"Action"`
	Value  *item.Value `json:"Value"`
}

// updateActions is the enum of AttributeUpdates actions.
var updateActions = []string{"ADD", "PUT", "DELETE"}

// attributeUpdatesViolations checks the enums inside AttributeUpdates.
func (v *violations) attributeUpdates(ups map[string]attributeUpdate) {
	for _, k := range sortedKeys(ups) {
		v.enum(ups[k].Action, "attributeUpdates."+k+".member.action", updateActions...)
	}
}

// updateClauses collects the actions of each update expression clause.
type updateClauses struct {
	set, remove, add, del []string
}

// text joins the clauses into an update expression.
func (c *updateClauses) text() string {
	var parts []string
	for _, cl := range []struct {
		kw      string
		actions []string
	}{{"SET", c.set}, {"REMOVE", c.remove}, {"ADD", c.add}, {"DELETE", c.del}} {
		if len(cl.actions) > 0 {
			parts = append(parts, cl.kw+" "+strings.Join(cl.actions, ", "))
		}
	}
	return strings.Join(parts, " ")
}

// translateAttributeUpdates turns AttributeUpdates into an update
// expression. (The caller rejects updates of key attributes once it knows
// the table.)
func translateAttributeUpdates(ups map[string]attributeUpdate, tr *translation) (string, error) {
	var c updateClauses
	for _, attr := range sortedKeys(ups) {
		if err := checkAttributeUpdate(attr, ups[attr]); err != nil {
			return "", err
		}
	}
	for _, attr := range sortedKeys(ups) {
		c.addAction(attr, ups[attr], tr)
	}
	return c.text(), nil
}

// checkAttributeUpdate validates one action against its value's type.
func checkAttributeUpdate(attr string, u attributeUpdate) error {
	action := actionOf(u)
	if u.Value == nil {
		if action != "DELETE" {
			return validationf("%sOnly DELETE action is allowed when no attribute value is specified", msgInvalidParams)
		}
		return nil
	}
	t := u.Value.Type
	switch {
	case action == "DELETE" && !isSetType(t):
		return validationf("%sDELETE action with value is not supported for the type %s", msgInvalidParams, t)
	case action == "ADD" && !isSetType(t) && t != item.TypeN && t != item.TypeL:
		return validationf("%sADD action is not supported for the type %s", msgInvalidParams, t)
	}
	return nil
}

// actionOf returns an update's action, PUT by default.
func actionOf(u attributeUpdate) string {
	if u.Action == nil {
		return "PUT"
	}
	return *u.Action
}

// isSetType reports whether t is one of the set types.
func isSetType(t item.Type) bool {
	return t == item.TypeSS || t == item.TypeNS || t == item.TypeBS
}

// addAction appends the expression form of one checked action.
func (c *updateClauses) addAction(attr string, u attributeUpdate, tr *translation) {
	n := tr.name(attr)
	switch action := actionOf(u); {
	case action == "PUT":
		c.set = append(c.set, n+" = "+tr.value(*u.Value))
	case action == "DELETE" && u.Value == nil:
		c.remove = append(c.remove, n)
	case action == "DELETE":
		c.del = append(c.del, n+" "+tr.value(*u.Value))
	case u.Value.Type == item.TypeL:
		// Legacy ADD appends to a list, creating it when missing.
		empty := tr.value(item.Value{Type: item.TypeL, L: []item.Value{}})
		c.set = append(c.set, n+" = list_append(if_not_exists("+n+", "+empty+"), "+tr.value(*u.Value)+")")
	default:
		c.add = append(c.add, n+" "+tr.value(*u.Value))
	}
}
