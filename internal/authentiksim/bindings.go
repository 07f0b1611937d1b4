package authentiksim

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

const (
	// Messages from authentik/policies/api/bindings.py, for the targets a
	// PolicyBindingModel supports by default.
	msgBindingTooMany = "Only one of 'policy', 'user', 'group' can be set."
	msgBindingNone    = "One of 'policy', 'user', 'group' must be set."
)

// bindingSubjects are PolicyBindingModel.supported_policy_binding_targets.
var bindingSubjects = []string{"policy", "user", "group"}

type policyJSON struct {
	PK                string `json:"pk"`
	Name              string `json:"name"`
	ExecutionLogging  bool   `json:"execution_logging"`
	Component         string `json:"component"`
	VerboseName       string `json:"verbose_name"`
	VerboseNamePlural string `json:"verbose_name_plural"`
	MetaModelName     string `json:"meta_model_name"`
	BoundTo           int    `json:"bound_to"`
}

type bindingJSON struct {
	PK            string            `json:"pk"`
	Policy        *string           `json:"policy"`
	Group         *string           `json:"group"`
	User          *int32            `json:"user"`
	PolicyObj     *policyJSON       `json:"policy_obj"`
	GroupObj      *partialGroupJSON `json:"group_obj"`
	UserObj       *struct{}         `json:"user_obj"`
	Target        string            `json:"target"`
	Negate        bool              `json:"negate"`
	Enabled       bool              `json:"enabled"`
	Order         int64             `json:"order"`
	Timeout       int64             `json:"timeout"`
	FailureResult bool              `json:"failure_result"`
}

// renderPolicy is PolicySerializer (authentik/policies/api/policies.py);
// every simulated policy is an expression policy.
func (st *state) renderPolicy(p *policy) policyJSON {
	return policyJSON{
		PK:                p.pk,
		Name:              p.name,
		ExecutionLogging:  p.executionLogging,
		Component:         expressionPolicyComponent,
		VerboseName:       expressionPolicyVerbose,
		VerboseNamePlural: expressionPolicyPlural,
		MetaModelName:     expressionPolicyMetaModel,
		BoundTo:           st.boundTo(p.pk),
	}
}

func (st *state) renderBinding(b *binding) bindingJSON {
	out := bindingJSON{
		PK: b.pk, Policy: b.policy, Group: b.group, User: b.user, Target: b.target,
		Negate: b.negate, Enabled: b.enabled, Order: b.order, Timeout: b.timeout, FailureResult: b.failureResult,
	}
	if b.policy != nil {
		p := st.renderPolicy(st.policies[*b.policy])
		out.PolicyObj = &p
	}
	if b.group != nil {
		g := st.renderPartialGroup(st.groups[*b.group])
		out.GroupObj = &g
	}
	return out
}

// bindBinding applies and validates the body's fields as
// PolicyBindingSerializer does.
func (st *state) bindBinding(f *form, b *binding) {
	if v, ok := f.uuidRef("policy", false, true, func(pk string) bool { return st.policies[pk] != nil }); ok {
		b.policy = v
	} else if !f.has("policy") && !f.partial {
		// policy is in unique_together and nullable, so DRF gives it a
		// default of None: a PUT or POST without policy clears it.
		b.policy = nil
	}
	if v, ok := f.uuidRef("group", false, true, func(pk string) bool { return st.groups[pk] != nil }); ok {
		b.group = v
	}
	// Users are not simulated: any user is a missing object.
	if v, ok := f.intRef("user", true, func(int32) bool { return false }); ok {
		b.user = v
	}
	if v, ok := f.uuidRef("target", true, false, st.isBindingTarget); ok {
		b.target = *v
	}
	if v, ok := f.boolean("negate"); ok {
		b.negate = v
	}
	if v, ok := f.boolean("enabled"); ok {
		b.enabled = v
	}
	if v, ok := f.integer("order", true, math.MinInt32, math.MaxInt32); ok {
		b.order = v
	}
	if v, ok := f.integer("timeout", false, 0, math.MaxInt32); ok {
		b.timeout = v
	}
	if v, ok := f.boolean("failure_result"); ok {
		b.failureResult = v
	}
}

// checkBinding runs what DRF runs after the fields: the unique_together
// validator on (policy, target, order), which skips rows with a null
// policy, then validate(), which counts the subjects set in the request
// body (not in the stored binding).
func (st *state) checkBinding(f *form, b *binding) *reply {
	if b.policy != nil {
		for _, other := range st.bindings {
			if other.pk != b.pk && other.policy != nil && *other.policy == *b.policy && other.target == b.target && other.order == b.order {
				r := nonField(fmt.Sprintf(msgUniqueSet, "policy, target, order"))
				return &r
			}
		}
	}
	set := 0
	for _, key := range bindingSubjects {
		if f.has(key) && !f.isNull(key) {
			set++
		}
	}
	var r reply
	switch {
	case set > 1:
		r = nonField(msgBindingTooMany)
	case set < 1:
		r = nonField(msgBindingNone)
	default:
		return nil
	}
	return &r
}

func (st *state) bindingFromPath(c *call) *binding {
	return st.bindings[strings.ToLower(c.params["policy_binding_uuid"])]
}

func listBindings(st *state, c *call) reply {
	q := c.query
	for _, t := range q["target_in"] {
		if !st.isBindingTarget(strings.ToLower(t)) {
			return invalid(fieldErrors{"target_in": {fmt.Sprintf(msgBadFilterPK, t)}})
		}
	}
	items := []bindingJSON{}
	for _, pk := range sortedKeys(st.bindings) {
		b := st.bindings[pk]
		policy, policyName := "", ""
		if b.policy != nil {
			policy, policyName = *b.policy, st.policies[*b.policy].name
		}
		if !iexact(q, "policy", policy) || !boolMatches(q, "policy__isnull", b.policy == nil) ||
			!iexact(q, "target", b.target) || !boolMatches(q, "enabled", b.enabled) ||
			!exact(q, "order", strconv.FormatInt(b.order, 10)) || !exact(q, "timeout", strconv.FormatInt(b.timeout, 10)) ||
			!search(q, policyName) {
			continue
		}
		if ts, ok := q["target_in"]; ok && !slices.ContainsFunc(ts, func(t string) bool { return strings.EqualFold(t, b.target) }) {
			continue
		}
		items = append(items, st.renderBinding(b))
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Target != items[j].Target {
			return items[i].Target < items[j].Target
		}
		return items[i].Order < items[j].Order
	})
	return paginate(q, items)
}

func retrieveBinding(st *state, c *call) reply {
	b := st.bindingFromPath(c)
	if b == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: st.renderBinding(b)}
}

func createBinding(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	b := &binding{pk: st.newUUID(), enabled: true, timeout: 30}
	st.bindBinding(f, b)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	if r := st.checkBinding(f, b); r != nil {
		return *r
	}
	st.bindings[b.pk] = b
	return reply{status: http.StatusCreated, body: st.renderBinding(b)}
}

func updateBinding(st *state, c *call) reply {
	stored := st.bindingFromPath(c)
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	b := *stored
	st.bindBinding(f, &b)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	if r := st.checkBinding(f, &b); r != nil {
		return *r
	}
	*stored = b
	return reply{status: http.StatusOK, body: st.renderBinding(stored)}
}

func destroyBinding(st *state, c *call) reply {
	b := st.bindingFromPath(c)
	if b == nil {
		return notFound()
	}
	delete(st.bindings, b.pk)
	return reply{status: http.StatusNoContent}
}
