package expr

// MaxOperators is the most operators and functions DynamoDB takes in one
// expression.
const MaxOperators = 300

// The operators and functions counted against MaxOperators: comparisons,
// BETWEEN, IN, AND, OR and NOT in conditions, + and - in updates, and
// calls of the functions the language has. Parentheses, paths, values and
// the actions of an update are not operators. A call of an unknown
// function is not counted, so it is reported by name ("Invalid function
// name") however deeply it nests, as DynamoDB is reported to do; a
// comparison chain such as "a<b OR (a<b OR ...)" counts each < and each
// OR.

// checkConditionOperators rejects a condition tree with more than
// MaxOperators operators.
func checkConditionOperators(kind string, root *Node) error {
	n := 0
	walkNodes(root, func(nd *Node) {
		if nd.Op != OpFunc || condFuncs[nd.Func].arity > 0 {
			n++
		}
		for _, o := range nd.Operands {
			n += operandOperators(o)
		}
	})
	return tooManyOperators(kind, n)
}

// checkUpdateOperators rejects an update with more than MaxOperators
// operators.
func checkUpdateOperators(u *Update) error {
	n := 0
	for _, a := range u.Actions {
		if a.Value != nil {
			n += operandOperators(a.Value)
		}
	}
	return tooManyOperators(KindUpdate, n)
}

// operandOperators counts the operators and known functions in o.
func operandOperators(o *Operand) int {
	if o.Kind != OperandCall {
		return 0
	}
	n := 0
	if isKnownFunc(o.Func) {
		n = 1
	}
	for _, a := range o.Args {
		n += operandOperators(a)
	}
	return n
}

// isKnownFunc reports whether name is an operator or function of either
// expression language.
func isKnownFunc(name string) bool {
	_, cond := condFuncs[name]
	return cond || updateFuncs[name] > 0 || name == "+" || name == "-"
}

func tooManyOperators(kind string, n int) error {
	if n > MaxOperators {
		return invalidf(kind, "The expression contains too many operators; operator count: %d", n)
	}
	return nil
}
