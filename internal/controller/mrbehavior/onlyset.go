package mrbehavior

import (
	"reflect"
	"strings"
)

// OnlySet returns observed with every field that spec leaves unset (a nil
// pointer, slice or map) unset too, so that a diff of the two shows only
// the fields the user manages. spec and observed are the same struct type,
// a kind's spec.forProvider; the fields of an embedded struct count as its
// own, fields of other types are kept as observed.
func OnlySet[P any](spec, observed P) P {
	onlySet(reflect.ValueOf(&spec).Elem(), reflect.ValueOf(&observed).Elem())
	return observed
}

func onlySet(s, o reflect.Value) {
	for i := range s.NumField() {
		switch s.Field(i).Kind() { //nolint:exhaustive // Only the kinds that can be unset.
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			if s.Field(i).IsNil() {
				o.Field(i).SetZero()
			}
		case reflect.Struct:
			if s.Type().Field(i).Anonymous {
				onlySet(s.Field(i), o.Field(i))
			}
		}
	}
}

// Lowered returns the values in lower case, nil for nil: UUIDs compare
// equal whatever case the user wrote them in.
func Lowered(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, v := range in {
		out = append(out, strings.ToLower(v))
	}
	return out
}
