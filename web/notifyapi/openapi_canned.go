package notifyapi

// The canned answers' and the comuni's calendars' part of the OpenAPI document (contract
// section 13; served by web/operatorapi).

func cannedPaths() obj {
	bad := errorResponse("bad input (a missing title or text, an unknown placeholder or channel, a calendar that does not read): nothing was changed")
	notFound := errorResponse("not found, or of a comune outside the caller's scope")
	forbidden := errorResponse("the caller's role does not allow it (operators; supervisors on shared answers or on hours), or a cookie request without the CSRF token")
	id := pathParam("id", "the canned answer's id")
	comune := pathParam("id", "the comune's id")
	body := jsonBody(ref("CannedInput"))
	return obj{
		"/api/v1/canned": obj{
			"get": operation("canned", "listCanned", "The canned answers the caller may see: the shared ones and their comuni's", "user", []obj{
				queryParam("comune", "that comune's answers and the shared ones (a comune outside the scope is 404)", obj{"type": "string"}),
				queryParam("channel", "only answers for this channel", obj{"type": "string", "enum": []string{"sms", "email", "fax", "phone"}}),
			}, nil, obj{"200": jsonResponse("the canned answers", object([]string{"items", "next_cursor"}, obj{"items": array(ref("Canned")), "next_cursor": str("always empty")})),
				"400": bad, "404": notFound}),
			"post": operation("canned", "createCanned", "Store a canned answer (supervisors and admins of its comune; shared ones: admins of every comune); audited", "user", nil, body,
				obj{"201": jsonResponse("the answer", ref("Canned")), "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/canned/{id}": obj{
			"get": operation("canned", "getCanned", "One canned answer", "user", []obj{id}, nil,
				obj{"200": jsonResponse("the answer", ref("Canned")), "404": notFound}),
			"put": operation("canned", "updateCanned", "Replace a canned answer's fields; audited", "user", []obj{id}, body,
				obj{"200": jsonResponse("the answer", ref("Canned")), "400": bad, "403": forbidden, "404": notFound}),
			"delete": operation("canned", "deleteCanned", "Delete a canned answer; audited", "user", []obj{id}, nil,
				obj{"204": obj{"description": "deleted"}, "403": forbidden, "404": notFound}),
		},
		"/api/v1/comuni/{id}/hours": obj{
			"get": operation("canned", "getComuneHours", "A comune's business hours and holidays (supervisors and admins of it)", "user", []obj{comune}, nil,
				obj{"200": jsonResponse("the calendar in force", ref("ComuneCalendar")), "403": forbidden, "404": notFound}),
			"put": operation("canned", "setComuneHours", "Replace a comune's business hours and holidays (admins of it); every replica follows at once; audited", "user", []obj{comune},
				jsonBody(ref("CalendarInput")),
				obj{"200": jsonResponse("the calendar in force", ref("ComuneCalendar")), "400": bad, "403": forbidden, "404": notFound}),
		},
	}
}

func cannedSchemas() obj {
	segments := object([]string{"encoding", "units", "segments"}, obj{
		"encoding": obj{"type": "string", "enum": []string{"GSM-7", "UCS-2"}}, "units": integer("septets (GSM-7) or UTF-16 units (UCS-2)"),
		"segments": integer("SMS segments"), "non_gsm": array(obj{"type": "string"}),
	})
	text := "placeholders: {nome} or {name} (the citizen's name), {comune}, {ufficio} or {office} (the office competent for the contact's category), {orari} or {hours} (the comune's opening hours)"
	holiday := object([]string{"rule"}, obj{
		"rule": str("MM-DD (every year), YYYY-MM-DD (once) or easter+N (N days after Easter Sunday; easter+1 is Easter Monday)"),
		"name": str(""),
	})
	days := array(obj{"type": "string", "enum": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}})
	return obj{
		"Canned": object([]string{"id", "title", "text_it", "text_en", "comune", "channels", "segments"}, obj{
			"id": str(""), "title": str(""), "text_it": str(text), "text_en": str("empty: the Italian text is used"),
			"comune": nullable("string", "null: shared by every comune"), "channels": array(obj{"type": "string"}),
			"segments":   object([]string{"it", "en"}, obj{"it": segments, "en": obj{"oneOf": []obj{segments, {"type": "null"}}}}),
			"created_at": dateTime(""), "updated_at": dateTime(""),
		}),
		"CannedInput": object([]string{"title", "text_it"}, obj{
			"title": str("at most 200 characters"), "text_it": str(text + "; at most 1600 characters"), "text_en": str("optional"),
			"comune":   nullable("string", "null or empty: shared by every comune (admins of every comune only)"),
			"channels": array(obj{"type": "string", "enum": []string{"sms", "email", "fax", "phone"}}),
		}),
		"CalendarInput": object([]string{"days", "open", "close"}, obj{
			"days": days, "open": str("HH:MM"), "close": str("HH:MM, after open"), "holidays": array(holiday),
		}),
		"ComuneCalendar": object([]string{"comune", "days", "open", "close", "holidays", "edited", "upcoming"}, obj{
			"comune": str(""), "days": days, "open": str("HH:MM"), "close": str("HH:MM"), "holidays": array(holiday),
			"edited":     obj{"type": "boolean", "description": "false: never stored, the config's calendar is in force"},
			"updated_at": nullableDateTime(""),
			"upcoming":   array(object([]string{"date", "name"}, obj{"date": obj{"type": "string", "format": "date"}, "name": str("")})),
		}),
	}
}

func withCannedSchemas(s obj) obj {
	for k, v := range cannedSchemas() {
		s[k] = v
	}
	return s
}
