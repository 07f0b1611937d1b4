package authentiksim

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// defaultPageSize is Authentik's page size when the client sends none.
const defaultPageSize = 100

type paginationJSON struct {
	Next       int `json:"next"`
	Previous   int `json:"previous"`
	Count      int `json:"count"`
	Current    int `json:"current"`
	TotalPages int `json:"total_pages"`
	StartIndex int `json:"start_index"`
	EndIndex   int `json:"end_index"`
}

type listJSON[T any] struct {
	Pagination   paginationJSON `json:"pagination"`
	Results      []T            `json:"results"`
	Autocomplete map[string]any `json:"autocomplete"`
}

// paginate orders items as the client asked and answers one page of them in
// Authentik's list envelope (authentik/api/pagination.py): next and previous
// are 0 when there is no such page, and an empty list still has one page.
func paginate[T any](q url.Values, items []T) reply {
	items = orderBy(q.Get("ordering"), items)
	page, size := 1, defaultPageSize
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return detail(http.StatusNotFound, "Invalid page.")
		}
		page = n
	}
	if v := q.Get("page_size"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			size = n
		}
	}
	count := len(items)
	pages := max(1, (count+size-1)/size)
	if page < 1 || page > pages {
		return detail(http.StatusNotFound, "Invalid page.")
	}
	start := (page - 1) * size
	end := min(start+size, count)
	p := paginationJSON{Count: count, Current: page, TotalPages: pages}
	if page < pages {
		p.Next = page + 1
	}
	if page > 1 {
		p.Previous = page - 1
	}
	if count > 0 {
		p.StartIndex, p.EndIndex = start+1, end
	}
	results := append(make([]T, 0, end-start), items[start:end]...)
	return reply{status: http.StatusOK, body: listJSON[T]{Pagination: p, Results: results, Autocomplete: map[string]any{}}}
}

// orderBy applies DRF's ordering parameter: comma-separated response field
// names, "-" for descending. Unknown fields are ignored, as DRF does.
func orderBy[T any](ordering string, items []T) []T {
	if ordering == "" || len(items) < 2 {
		return items
	}
	decoded := make([]map[string]any, len(items))
	for i, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return items
		}
		if err := json.Unmarshal(b, &decoded[i]); err != nil {
			return items
		}
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	fields := strings.Split(ordering, ",")
	sort.SliceStable(idx, func(a, b int) bool {
		for _, f := range fields {
			desc := strings.HasPrefix(f, "-")
			f = strings.TrimPrefix(f, "-")
			c := compareJSON(decoded[idx[a]][f], decoded[idx[b]][f])
			if c == 0 {
				continue
			}
			return (c < 0) != desc
		}
		return false
	})
	out := make([]T, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out
}

func compareJSON(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	case bool:
		if y, ok := b.(bool); ok && x != y {
			if !x {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Query filters. A filter the client did not send matches everything.

func iexact(q url.Values, key, value string) bool {
	v, ok := q[key]
	return !ok || strings.EqualFold(v[0], value)
}

func exact(q url.Values, key, value string) bool {
	v, ok := q[key]
	return !ok || v[0] == value
}

func icontains(q url.Values, key, value string) bool {
	v, ok := q[key]
	return !ok || strings.Contains(strings.ToLower(value), strings.ToLower(v[0]))
}

// boolParam reads a django-filter BooleanFilter value.
func boolParam(q url.Values, key string) (value, set bool) {
	v, ok := q[key]
	if !ok {
		return false, false
	}
	switch strings.ToLower(v[0]) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func boolMatches(q url.Values, key string, value bool) bool {
	want, set := boolParam(q, key)
	return !set || want == value
}

// search applies DRF's SearchFilter: every term must appear, case
// insensitively, in one of the search fields.
func search(q url.Values, fields ...string) bool {
	terms := strings.Fields(q.Get("search"))
	for _, t := range terms {
		t = strings.ToLower(t)
		found := false
		for _, f := range fields {
			if strings.Contains(strings.ToLower(f), t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// parseTimedelta reads Authentik's "hours=1;minutes=2" durations as
// authentik/lib/utils/time.py timedelta_from_string does: unknown keys are
// skipped, at least one known key is needed. It returns seconds.
func parseTimedelta(expr string) (float64, bool) {
	units := map[string]float64{
		"microseconds": 1e-6, "milliseconds": 1e-3, "seconds": 1, "minutes": 60,
		"hours": 3600, "days": 86400, "weeks": 604800,
	}
	var total float64
	known := 0
	for _, pair := range strings.Split(expr, ";") {
		parts := strings.Split(pair, "=")
		if len(parts) != 2 {
			return 0, false
		}
		unit, ok := units[strings.ToLower(parts[0])]
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, false
		}
		total += v * unit
		known++
	}
	return total, known > 0
}
