package authentiksim

import (
	"fmt"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const errCannotEvaluate = "the simulator cannot evaluate"

// An expression is the part of Python that the simulator evaluates as
// Authentik's PolicyEvaluator would (authentik/policies/expression/
// evaluator.py): one return statement whose value is either of
//
//	ak_is_group_member(request.user, name="<group name>")
//	ak_is_sso_flow
//
// or several of them joined by "or", in parentheses or not. Strings are
// quoted with ' or " and may escape \\, \', \", \n, \r and \t; newlines are
// allowed where Python allows them (inside parentheses, or after a
// backslash), and comments anywhere. Everything else (other functions,
// other filters, string prefixes, more statements) is refused with an
// error, never given a guessed verdict.
type expression struct {
	// terms are joined by "or". A term with an empty group is
	// ak_is_sso_flow.
	terms []expressionTerm
}

type expressionTerm struct {
	ssoFlow bool
	group   string
}

// evaluate is the expression's verdict for a user whose groups, with their
// ancestors, have the given names:
//   - ak_is_group_member(user, **group_filters) is
//     user.all_groups().filter(**group_filters).exists()
//     (BaseEvaluator.expr_is_group_member, authentik/lib/expression/
//     evaluator.py): with name=, true when one of the user's groups or
//     their ancestors has exactly that name, so a name no group has
//     admits no one;
//   - ak_is_sso_flow is whether the flow plan came from a source's SSO
//     (PolicyEvaluator.set_policy_request), never so for access to an
//     application;
//   - "or" passes when any term does, and a truthy result passes
//     (PolicyEvaluator.evaluate).
func (e expression) evaluate(groupNames map[string]bool) bool {
	for _, t := range e.terms {
		if !t.ssoFlow && groupNames[t.group] {
			return true
		}
	}
	return false
}

// parseExpression reads source, or says why the simulator cannot evaluate
// it.
func parseExpression(source string) (expression, error) {
	toks, err := tokenize(source)
	if err != nil {
		return expression{}, err
	}
	p := &exprParser{toks: toks}
	if !p.name("return") {
		return expression{}, p.unexpected("return")
	}
	e, err := p.orExpression()
	if err != nil {
		return expression{}, err
	}
	if t := p.peek(); t.kind != tokEnd {
		return expression{}, p.unexpected("the end of the expression")
	}
	return e, nil
}

type tokKind int

const (
	tokEnd tokKind = iota
	tokName
	tokString
	tokPunct
	// tokNewline ends a logical line: a newline outside parentheses.
	tokNewline
)

type token struct {
	kind tokKind
	text string // a name, a punctuation character, or a string's value
}

// tokenize splits source into Python tokens as far as the simulated forms
// need; blank lines and trailing newlines are dropped.
func tokenize(source string) ([]token, error) {
	var out []token
	depth := 0
	for i := 0; i < len(source); {
		c := source[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '\\' && strings.HasPrefix(source[i+1:], "\n"):
			i += 2
		case c == '\r' || c == '\n':
			if depth == 0 && len(out) > 0 && out[len(out)-1].kind != tokNewline {
				out = append(out, token{kind: tokNewline})
			}
			i++
		case c == '#':
			for i < len(source) && source[i] != '\n' && source[i] != '\r' {
				i++
			}
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(source) && (source[j] == '_' || source[j] >= 'a' && source[j] <= 'z' || source[j] >= 'A' && source[j] <= 'Z' || source[j] >= '0' && source[j] <= '9') {
				j++
			}
			if j < len(source) && (source[j] == '"' || source[j] == '\'') {
				return nil, errors.Errorf("a string prefix %q", source[i:j])
			}
			out = append(out, token{kind: tokName, text: source[i:j]})
			i = j
		case c == '"' || c == '\'':
			s, n, err := readString(source[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tokString, text: s})
			i += n
		case strings.ContainsRune("(),=.", rune(c)):
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			}
			out = append(out, token{kind: tokPunct, text: string(c)})
			i++
		default:
			return nil, errors.Errorf("the character %q", c)
		}
	}
	for len(out) > 0 && out[len(out)-1].kind == tokNewline {
		out = out[:len(out)-1]
	}
	return append(out, token{kind: tokEnd}), nil
}

// readString reads one single-line Python string literal at the start of
// s, returning its value and its length in s.
func readString(s string) (string, int, error) {
	quote := s[0]
	if strings.HasPrefix(s, strings.Repeat(string(quote), 3)) {
		return "", 0, errors.New("a triple-quoted string")
	}
	var sb strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case quote:
			return sb.String(), i + 1, nil
		case '\n', '\r':
			return "", 0, errors.New("a string that does not end on its line")
		case '\\':
			if i+1 >= len(s) {
				return "", 0, errors.New("a string that does not end")
			}
			i++
			switch e := s[i]; e {
			case '\\', '\'', '"':
				sb.WriteByte(e)
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			default:
				return "", 0, errors.Errorf("the string escape \\%c", e)
			}
		default:
			sb.WriteByte(c)
		}
	}
	return "", 0, errors.New("a string that does not end")
}

type exprParser struct {
	toks []token
	pos  int
}

func (p *exprParser) peek() token { return p.toks[p.pos] }

func (p *exprParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEnd {
		p.pos++
	}
	return t
}

// name consumes the name n if it comes next.
func (p *exprParser) name(n string) bool {
	if t := p.peek(); t.kind == tokName && t.text == n {
		p.pos++
		return true
	}
	return false
}

// punct consumes the punctuation c if it comes next.
func (p *exprParser) punct(c string) bool {
	if t := p.peek(); t.kind == tokPunct && t.text == c {
		p.pos++
		return true
	}
	return false
}

func (p *exprParser) unexpected(want string) error {
	t := p.peek()
	got := "the end of the expression"
	switch t.kind {
	case tokName, tokPunct:
		got = fmt.Sprintf("%q", t.text)
	case tokString:
		got = "a string"
	case tokNewline:
		got = "a second line"
	case tokEnd:
	}
	return errors.Errorf("%s where %s would be", got, want)
}

func (p *exprParser) orExpression() (expression, error) {
	var e expression
	for {
		terms, err := p.term()
		if err != nil {
			return expression{}, err
		}
		e.terms = append(e.terms, terms...)
		if !p.name("or") {
			return e, nil
		}
	}
}

func (p *exprParser) term() ([]expressionTerm, error) {
	switch {
	case p.punct("("):
		e, err := p.orExpression()
		if err != nil {
			return nil, err
		}
		if !p.punct(")") {
			return nil, p.unexpected(`")"`)
		}
		return e.terms, nil
	case p.name("ak_is_sso_flow"):
		return []expressionTerm{{ssoFlow: true}}, nil
	case p.name("ak_is_group_member"):
		g, err := p.groupMemberArgs()
		if err != nil {
			return nil, err
		}
		return []expressionTerm{{group: g}}, nil
	}
	return nil, p.unexpected(`ak_is_group_member(request.user, name="...") or ak_is_sso_flow`)
}

// groupMemberArgs reads `(request.user, name="<group>")`, with an optional
// trailing comma.
func (p *exprParser) groupMemberArgs() (string, error) {
	for _, step := range []func() bool{
		func() bool { return p.punct("(") },
		func() bool { return p.name("request") },
		func() bool { return p.punct(".") },
		func() bool { return p.name("user") },
		func() bool { return p.punct(",") },
		func() bool { return p.name("name") },
		func() bool { return p.punct("=") },
	} {
		if !step() {
			return "", p.unexpected(`ak_is_group_member(request.user, name="...")`)
		}
	}
	t := p.peek()
	if t.kind != tokString {
		return "", p.unexpected("the group's name as one string")
	}
	p.next()
	p.punct(",")
	if !p.punct(")") {
		return "", p.unexpected(`")"`)
	}
	return t.text, nil
}
