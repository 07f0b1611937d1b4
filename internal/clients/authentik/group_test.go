package authentik_test

import api "goauthentik.io/api/v3"

func apiGroup(name string) *api.GroupRequest { return api.NewGroupRequest(name) }
