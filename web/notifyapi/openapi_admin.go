package notifyapi

// The administration's part of the OpenAPI document (contract section 13; served by
// web/operatorapi's Admin): users, the caller's own password and the comuni's API keys.

func adminPaths() obj {
	ok := func(desc, schema string) obj { return jsonResponse(desc, ref(schema)) }
	bad := errorResponse("invalid input: a bad username, role, comune, category, capacity, phone or password")
	notFound := errorResponse("no such user or key within the caller's comuni")
	forbidden := errorResponse("below supervisor, or a role or comuni beyond the caller's, or the caller's own role, comuni or account")
	list := func(desc string) obj { return array(obj{"type": "string", "description": desc}) }
	userFields := obj{
		"name": str("display name"), "role": obj{"type": "string", "enum": []string{"operator", "supervisor", "admin"}},
		"comuni":     list("comune ids; none = every comune (admins and unscoped supervisors only)"),
		"categories": list("skills: category ids; none = every category"), "capacity": integer("open contacts at once, 1-100 (default 5)"),
		"phone": str("where the user answers calls: E.164 or sip: URI; empty = the browser softphone"),
	}
	newUser := obj{"username": str("2-64 lower-case letters, digits, . _ - @"), "password": str("optional; none = one is made and returned once")}
	for k, v := range userFields {
		newUser[k] = v
	}
	patch := obj{"disabled": obj{"type": "boolean", "description": "a disabled user cannot log in; their sessions and tokens end"},
		"password": str("sets a password the caller chose (the policy applies); the user's sessions end; not for one's own"),
		"username": str("cannot change: if present, the user's own")}
	for k, v := range userFields {
		patch[k] = v
	}
	username := []obj{pathParam("username", "the user's username")}
	return obj{
		"/api/v1/users": obj{
			"post": operation("admin", "createUser", "Create a user within the caller's comuni (supervisors and admins)", "user", nil,
				jsonBody(object([]string{"username"}, newUser)),
				obj{"201": jsonResponse("the user, and the password when it was made", object([]string{"user"}, obj{"user": ref("User"), "password": str("shown once")})),
					"400": bad, "403": forbidden, "409": errorResponse("the username exists")}),
		},
		"/api/v1/users/{username}": obj{
			"get": operation("admin", "getUser", "One user within the caller's comuni (supervisors and admins)", "user", username, nil,
				obj{"200": ok("the user", "User"), "403": forbidden, "404": notFound}),
			"patch": operation("admin", "updateUser", "Change a user within the caller's comuni; absent fields stay (supervisors and admins)", "user", username,
				jsonBody(object(nil, patch)), obj{"200": ok("the user after the change", "User"), "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/me/password": obj{
			"post": operation("admin", "changeMyPassword", "Change the caller's own password; every other session of theirs ends", "user", nil,
				jsonBody(object([]string{"current", "new"}, obj{"current": str(""), "new": str("at least 10 characters, not among the 10,000 most common passwords")})),
				obj{"204": obj{"description": "changed"}, "400": errorResponse("wrong_password, password_too_short, password_too_common or password_unchanged"),
					"429": errorResponse("too many password checks at once")}),
		},
		"/api/v1/keys": obj{
			"get": operation("admin", "listKeys", "The comuni's API keys within the caller's comuni, newest first (supervisors and admins)", "user", nil, nil,
				obj{"200": ok("the keys", "KeyList"), "403": forbidden}),
			"post": operation("admin", "createKey", "Issue an API key for a comune of the caller's (supervisors and admins)", "user", nil,
				jsonBody(object([]string{"comune"}, obj{"comune": str("comune id"), "name": str("who uses it")})),
				obj{"201": jsonResponse("the key's record and the key, shown this once", ref("CreatedKey")), "400": bad, "403": forbidden}),
		},
		"/api/v1/keys/{id}": obj{
			"delete": operation("admin", "revokeKey", "Revoke an API key of a comune of the caller's", "user", []obj{pathParam("id", "the key's id")}, nil,
				obj{"200": ok("the revoked key", "Key"), "403": forbidden, "404": notFound}),
		},
	}
}

func withAdminSchemas(s obj) obj {
	key := obj{"id": str(""), "comune": str(""), "name": str(""), "created_at": dateTime(""), "revoked_at": nullableDateTime(""),
		"last_used_at": nullableDateTime("the last request made with it"), "requests": integer("requests made with it")}
	created := obj{"key": str("the key itself: send it as Authorization: Bearer")}
	for k, v := range key {
		created[k] = v
	}
	s["User"] = object([]string{"id", "username", "name", "role", "comuni", "categories", "capacity", "phone", "presence", "open", "disabled", "created_at"}, obj{
		"id": str(""), "username": str(""), "name": str(""), "role": str(""), "comuni": array(obj{"type": "string"}),
		"categories": array(obj{"type": "string"}), "capacity": integer(""), "phone": str(""), "presence": str(""),
		"open": integer("contacts assigned to them now"), "disabled": obj{"type": "boolean"}, "created_at": dateTime(""),
	})
	s["Key"] = object([]string{"id", "comune", "name", "created_at", "revoked_at", "last_used_at", "requests"}, key)
	s["CreatedKey"] = object([]string{"id", "comune", "key"}, created)
	s["KeyList"] = listOf("Key")
	return s
}

// withAdminPaths adds the administration's paths, merging methods into paths already there.
func withAdminPaths(paths obj) {
	for k, v := range adminPaths() {
		if have, ok := paths[k].(obj); ok {
			for m, op := range v.(obj) {
				have[m] = op
			}
			continue
		}
		paths[k] = v
	}
}
