package authentiksim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseExpression(t *testing.T) {
	t.Parallel()
	type want struct {
		// passesFor are the verdicts for users in the named groups.
		passesFor map[string]bool
		// refused is set when the simulator cannot evaluate the source.
		refused bool
	}
	// Users by the names of their groups (with ancestors).
	users := map[string][]string{
		"none":   nil,
		"team":   {"team"},
		"spaced": {`Ops "night" team`},
		"quoted": {`it's`},
		"other":  {"others"},
	}
	verdicts := func(in ...string) map[string]bool {
		out := map[string]bool{}
		for u := range users {
			out[u] = false
		}
		for _, u := range in {
			out[u] = true
		}
		return out
	}
	cases := map[string]struct {
		reason string
		source string
		want   want
	}{
		"OneGroup": {
			reason: "The provider's form: membership of one group by name.",
			source: `return ak_is_group_member(request.user, name="team")`,
			want:   want{passesFor: verdicts("team")},
		},
		"SingleQuotes": {
			reason: "Python strings may use single quotes.",
			source: `return ak_is_group_member(request.user, name='team')`,
			want:   want{passesFor: verdicts("team")},
		},
		"EscapedQuotes": {
			reason: "Quotes inside a name are escaped with a backslash.",
			source: `return ak_is_group_member(request.user, name="Ops \"night\" team") or ak_is_group_member(request.user, name='it\'s')`,
			want:   want{passesFor: verdicts("spaced", "quoted")},
		},
		"SeveralGroupsOnLines": {
			reason: "Terms joined by or, over several lines inside parentheses, with a trailing comma and comments.",
			source: "# allowed groups\nreturn (\n    ak_is_group_member(request.user, name=\"team\",)\n    or ak_is_group_member( request . user , name = \"others\" )  # second\n)\n",
			want:   want{passesFor: verdicts("team", "other")},
		},
		"BackslashContinuation": {
			reason: "A backslash before a newline continues the line.",
			source: "return ak_is_group_member(request.user, name=\"team\") \\\n  or ak_is_group_member(request.user, name=\"others\")",
			want:   want{passesFor: verdicts("team", "other")},
		},
		"NameCaseMatters": {
			reason: "filter(name=...) is an exact, case-sensitive match.",
			source: `return ak_is_group_member(request.user, name="Team")`,
			want:   want{passesFor: verdicts()},
		},
		"SSOFlow": {
			reason: "ak_is_sso_flow is false for access to an application.",
			source: seededPolicyExpression,
			want:   want{passesFor: verdicts()},
		},
		"OrOutsideParenthesesOnNewLine": {
			reason: "A newline outside parentheses ends the statement: the or on the next line is a second statement.",
			source: "return ak_is_group_member(request.user, name=\"team\")\nor ak_is_group_member(request.user, name=\"others\")",
			want:   want{refused: true},
		},
		"OtherFilter": {
			reason: "Only the name filter is simulated.",
			source: `return ak_is_group_member(request.user, name__iexact="team")`,
			want:   want{refused: true},
		},
		"OtherUser": {
			reason: "Only the requesting user is simulated.",
			source: `return ak_is_group_member(user, name="team")`,
			want:   want{refused: true},
		},
		"And": {
			reason: "and is not one of the forms.",
			source: `return ak_is_group_member(request.user, name="a") and ak_is_group_member(request.user, name="b")`,
			want:   want{refused: true},
		},
		"Not": {
			reason: "not is not one of the forms.",
			source: `return not ak_is_group_member(request.user, name="a")`,
			want:   want{refused: true},
		},
		"Literal": {
			reason: "return True is not one of the forms.",
			source: `return True`,
			want:   want{refused: true},
		},
		"StringPrefix": {
			reason: "Prefixed strings are not simulated.",
			source: `return ak_is_group_member(request.user, name=r"team")`,
			want:   want{refused: true},
		},
		"UnknownEscape": {
			reason: "Escapes beyond the simple ones are not simulated.",
			source: `return ak_is_group_member(request.user, name="t\x65am")`,
			want:   want{refused: true},
		},
		"Unterminated": {
			reason: "A string must end on its line.",
			source: "return ak_is_group_member(request.user, name=\"team)\n",
			want:   want{refused: true},
		},
		"NoReturn": {
			reason: "An expression without return gives None in Authentik; the simulator does not guess.",
			source: `ak_is_group_member(request.user, name="team")`,
			want:   want{refused: true},
		},
		"Empty": {
			reason: "Nothing to evaluate.",
			source: "",
			want:   want{refused: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e, err := parseExpression(tc.source)
			if (err != nil) != tc.want.refused {
				t.Fatalf("%s\nparseExpression(%q): %v, want refused %t", tc.reason, tc.source, err, tc.want.refused)
			}
			if tc.want.refused {
				return
			}
			got := map[string]bool{}
			for u, groups := range users {
				names := map[string]bool{}
				for _, g := range groups {
					names[g] = true
				}
				got[u] = e.evaluate(names)
			}
			if diff := cmp.Diff(tc.want.passesFor, got); diff != "" {
				t.Errorf("%s\nverdicts: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
