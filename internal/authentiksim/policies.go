package authentiksim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// The component and names of ExpressionPolicy
// (authentik/policies/expression/models.py).
const (
	expressionPolicyComponent   = "ak-policy-expression-form"
	expressionPolicyVerbose     = "Expression Policy"
	expressionPolicyPlural      = "Expression Policies"
	expressionPolicyMetaModel   = "authentik_policies_expression.expressionpolicy"
	expressionPolicyUniqueModel = "Policy"
)

type expressionPolicyJSON struct {
	policyJSON
	Expression string `json:"expression"`
}

// boundTo is PolicySerializer.get_bound_to: the policy's bindings and the
// prompt stages that use it (none are simulated).
func (st *state) boundTo(pk string) int {
	n := 0
	for _, b := range st.bindings {
		if b.policy != nil && *b.policy == pk {
			n++
		}
	}
	return n
}

func (st *state) renderExpressionPolicy(p *policy) expressionPolicyJSON {
	return expressionPolicyJSON{policyJSON: st.renderPolicy(p), Expression: p.expression}
}

// policyNameTaken is the unique check on Policy.name
// (authentik/policies/models.py): DRF validates it against every policy,
// whatever its type, so an expression policy cannot take the name of any
// other policy.
func (st *state) policyNameTaken(name, self string) bool {
	for _, p := range st.policies {
		if p.name == name && p.pk != self {
			return true
		}
	}
	return false
}

// bindExpressionPolicy applies and validates the body's fields as
// ExpressionPolicySerializer (authentik/policies/expression/api.py) does.
// Its validate_expression compiles the expression as Python; the simulator
// cannot, so it accepts any non-blank expression and leaves what it cannot
// evaluate to the access decision (expression.go), which reports it.
func (st *state) bindExpressionPolicy(f *form, p *policy) {
	if v, ok := f.str("name", true, false); ok {
		// The unique field's message names the model that declares it
		// (DRF's get_unique_error_message): Policy, not Expression Policy.
		if st.policyNameTaken(v, p.pk) {
			f.errs.add("name", fmt.Sprintf(msgUnique, expressionPolicyUniqueModel, "name"))
		} else {
			p.name = v
		}
	}
	if v, ok := f.boolean("execution_logging"); ok {
		p.executionLogging = v
	}
	if v, ok := f.str("expression", true, false); ok {
		p.expression = v
	}
}

func (st *state) policyFromPath(c *call) *policy {
	return st.policies[strings.ToLower(c.params["policy_uuid"])]
}

// listExpressionPolicies filters as ExpressionPolicyViewSet's
// filterset_fields "__all__" do (each field exactly), searches names and
// orders by name. created and last_updated are not simulated, so filtering
// on them matches nothing.
func listExpressionPolicies(st *state, c *call) reply {
	q := c.query
	_, byCreated := q["created"]
	_, byUpdated := q["last_updated"]
	items := []expressionPolicyJSON{}
	for _, pk := range sortedKeys(st.policies) {
		p := st.policies[pk]
		if !exact(q, "name", p.name) || !exact(q, "expression", p.expression) ||
			!iexact(q, "policy_uuid", p.pk) || !boolMatches(q, "execution_logging", p.executionLogging) ||
			byCreated || byUpdated || !search(q, p.name) {
			continue
		}
		items = append(items, st.renderExpressionPolicy(p))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

func retrieveExpressionPolicy(st *state, c *call) reply {
	p := st.policyFromPath(c)
	if p == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: st.renderExpressionPolicy(p)}
}

// retrieveAnyPolicy answers /policies/all/{uuid}/: PolicySerializer's
// to_representation (authentik/policies/api/policies.py) answers with the
// policy's own serializer, so an expression policy comes with its
// expression.
func retrieveAnyPolicy(st *state, c *call) reply {
	return retrieveExpressionPolicy(st, c)
}

func createExpressionPolicy(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	p := &policy{pk: st.newUUID()}
	st.bindExpressionPolicy(f, p)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	st.policies[p.pk] = p
	return reply{status: http.StatusCreated, body: st.renderExpressionPolicy(p)}
}

func updateExpressionPolicy(st *state, c *call) reply {
	stored := st.policyFromPath(c)
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	p := *stored
	st.bindExpressionPolicy(f, &p)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	*stored = p
	return reply{status: http.StatusOK, body: st.renderExpressionPolicy(stored)}
}

func destroyExpressionPolicy(st *state, c *call) reply {
	p := st.policyFromPath(c)
	if p == nil {
		return notFound()
	}
	st.deletePolicy(p.pk)
	return reply{status: http.StatusNoContent}
}
