package authentiksim

import (
	"sort"
	"strconv"
)

// A Service records how one outpost served one provider, evaluated after
// every accepted write: served means the provider is on the outpost's list,
// is of the outpost's type and has an application (outpostServes in
// access.go). A provider that is taken
// off the list and put back, or whose application is deleted and made
// again, was interrupted, however briefly; a test of a takeover asserts
// there was no interruption.
type Service struct {
	Outpost      string `json:"outpost"`
	OutpostName  string `json:"outpost_name"`
	Provider     int32  `json:"provider"`
	ProviderName string `json:"provider_name"`
	// Since numbers the accepted write (from 1) after which the outpost
	// first served the provider.
	Since int `json:"since"`
	// Serving tells whether it serves the provider now.
	Serving bool `json:"serving"`
	// Interruptions number the writes after which it no longer served the
	// provider it served before.
	Interruptions []int `json:"interruptions"`
}

type serviceKey struct {
	outpost  string
	provider int32
}

// recordService updates the service record after write number st.writes.
func (st *state) recordService() {
	now := map[serviceKey]bool{}
	for _, opk := range sortedKeys(st.outposts) {
		o := st.outposts[opk]
		for _, ppk := range o.providers {
			name, _, ok := st.outpostServes(o, ppk)
			if !ok {
				continue
			}
			k := serviceKey{outpost: opk, provider: ppk}
			now[k] = true
			s, ok := st.service[k]
			if !ok {
				s = &Service{Outpost: opk, Provider: ppk, Since: st.writes, Interruptions: []int{}}
				st.service[k] = s
			}
			s.OutpostName, s.ProviderName, s.Serving = o.name, name, true
		}
	}
	for k, s := range st.service {
		if s.Serving && !now[k] {
			s.Serving = false
			s.Interruptions = append(s.Interruptions, st.writes)
		}
	}
}

// ServiceRecord answers "did any outpost stop serving provider P?": the
// record of every outpost that served the provider (its name or its pk);
// an empty provider matches all.
func (s *Server) ServiceRecord(provider string) []Service {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	out := []Service{}
	for k, r := range s.state.service {
		if provider != "" && provider != r.ProviderName && provider != strconv.Itoa(int(k.provider)) {
			continue
		}
		c := *r
		c.Interruptions = append([]int{}, r.Interruptions...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].Outpost < out[j].Outpost
	})
	return out
}
