package authentiksim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

const msgIncorrectType = "Incorrect type. Expected pk value, received %s."

// uuidRef reads a DRF PrimaryKeyRelatedField whose target has a uuid key.
// exists says whether an object with that key exists. nil with ok true means
// the client sent null to a nullable field.
func (f *form) uuidRef(key string, required, nullable bool, exists func(string) bool) (*string, bool) {
	if !f.present(key, required) {
		return nil, false
	}
	if f.isNull(key) {
		if nullable {
			return nil, true
		}
		f.errs.add(key, msgNull)
		return nil, false
	}
	var v string
	if err := json.Unmarshal(f.raw[key], &v); err != nil {
		f.errs.add(key, fmt.Sprintf(msgIncorrectType, jsonType(f.raw[key])))
		return nil, false
	}
	if !exists(strings.ToLower(v)) {
		f.errs.add(key, fmt.Sprintf(msgNoObject, v))
		return nil, false
	}
	v = strings.ToLower(v)
	return &v, true
}

// intRef reads a PrimaryKeyRelatedField whose target has an integer key.
func (f *form) intRef(key string, nullable bool, exists func(int32) bool) (*int32, bool) {
	if !f.has(key) {
		return nil, false
	}
	if f.isNull(key) {
		if nullable {
			return nil, true
		}
		f.errs.add(key, msgNull)
		return nil, false
	}
	raw := strings.TrimSpace(string(f.raw[key]))
	n, err := strconv.ParseInt(raw, 10, 32)
	if err != nil {
		f.errs.add(key, fmt.Sprintf(msgIncorrectType, jsonType(f.raw[key])))
		return nil, false
	}
	v := int32(n)
	if !exists(v) {
		f.errs.add(key, fmt.Sprintf(msgNoObject, raw))
		return nil, false
	}
	return &v, true
}

// uuidRefs reads a many=True PrimaryKeyRelatedField of uuid keys. The result
// has duplicates removed, as storing a many-to-many relation does.
func (f *form) uuidRefs(key string, required bool, exists func(string) bool) ([]string, bool) {
	vs, ok := formList[string](f, key, required)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		v = strings.ToLower(v)
		if !exists(v) {
			f.errs.add(key, fmt.Sprintf(msgNoObject, v))
			return nil, false
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, true
}

// intRefs reads a many=True PrimaryKeyRelatedField of integer keys.
func (f *form) intRefs(key string, required bool, exists func(int32) bool) ([]int32, bool) {
	vs, ok := formList[int32](f, key, required)
	if !ok {
		return nil, false
	}
	out := make([]int32, 0, len(vs))
	for _, v := range vs {
		if !exists(v) {
			f.errs.add(key, fmt.Sprintf(msgNoObject, strconv.Itoa(int(v))))
			return nil, false
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, true
}
