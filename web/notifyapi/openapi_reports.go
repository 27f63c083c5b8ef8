package notifyapi

// The reports' part of the OpenAPI document (contract section 7; served by web/reportapi).

func reportPaths() obj {
	bad := errorResponse("a malformed date, to before from, or a bad target")
	notFound := errorResponse("the comune is unknown or outside the caller's scope")
	forbidden := errorResponse("operators cannot read reports")
	date := func(name, desc string) obj {
		return queryParam(name, desc, obj{"type": "string", "format": "date"})
	}
	rangeParams := []obj{
		date("from", "first local day, YYYY-MM-DD (default: the first of the current month)"),
		date("to", "last local day, inclusive (default: the last of the current month)"),
		queryParam("comune", "narrow to one comune of the caller's scope", obj{"type": "string"}),
	}
	summary := operation("reports", "getReportSummary", "Volumes, outcomes, calls and service level of a range of days (supervisors, admins, or a comune's API key for its own comune)", "user",
		rangeParams, nil, obj{"200": jsonResponse("the summary", ref("ReportSummary")), "400": bad, "403": forbidden, "404": notFound})
	summary["security"] = []obj{{"userToken": []string{}}, {"session": []string{}}, {"comuneKey": []string{}}}
	summary["responses"].(obj)["429"] = obj{"description": "a comune's API key over its requests per minute (shared with its notification API calls), counted across every replica",
		"headers": obj{"Retry-After": obj{"schema": obj{"type": "integer"}}}, "content": obj{"application/json": obj{"schema": ref("Error")}}}
	return obj{
		"/api/v1/reports/summary": obj{"get": summary},
		"/api/v1/reports/contacts.csv": obj{
			"get": operation("reports", "getReportContactsCSV", "One CSV row per contact of the range, oldest first (supervisors and admins)", "user", rangeParams, nil,
				obj{"200": obj{"description": "id,received_at,channel,comune,category,queue,status,outcome,office,wait_seconds,talk_seconds,first_response_seconds,resolved_at",
					"content": obj{"text/csv": obj{"schema": obj{"type": "string"}}}}, "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/reports/staffing": obj{
			"get": operation("reports", "getReportStaffing", "Erlang C agents per weekday and hour from the measured calls (supervisors and admins)", "user",
				append(rangeParams,
					queryParam("target_seconds", "answer target (default reports.target_seconds, 20)", obj{"type": "integer", "minimum": 1, "maximum": 3600}),
					queryParam("target_level", "share to answer within the target (default reports.target_level, 0.8)", obj{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})),
				nil, obj{"200": jsonResponse("agents per weekday-hour", ref("ReportStaffing")), "400": bad, "403": forbidden, "404": notFound}),
		},
	}
}

func reportSchemas() obj {
	counts := obj{"type": "object", "additionalProperties": obj{"type": "integer"}}
	number := func(desc string) obj { return obj{"type": "number", "description": desc} }
	nullableInt := obj{"type": []string{"integer", "null"}}
	return obj{
		"ReportSummary": object([]string{"from", "to", "comune", "contacts", "outcomes", "calls", "first_response_seconds", "by_day"}, obj{
			"from": str("first day"), "to": str("last day, inclusive"), "comune": nullable("string", "the comune asked for"),
			"contacts": object([]string{"total", "by_channel", "by_comune", "by_category"}, obj{
				"total": integer(""), "by_channel": counts, "by_comune": counts, "by_category": counts,
			}),
			"outcomes": counts,
			"calls": object([]string{"offered", "answered", "abandoned", "avg_wait_seconds", "avg_talk_seconds", "answered_within_target", "target_seconds", "service_level"}, obj{
				"offered": integer("inbound calls"), "answered": integer(""), "abandoned": integer(""),
				"avg_wait_seconds": number("over answered calls"), "avg_talk_seconds": number("over answered calls"),
				"answered_within_target": integer(""), "target_seconds": integer(""), "service_level": number("answered within target / offered"),
			}),
			"first_response_seconds": object([]string{"median", "p90"}, obj{"median": nullableInt, "p90": nullableInt}),
			"by_day": array(object([]string{"date", "contacts", "calls_offered", "calls_answered"}, obj{
				"date": str(""), "contacts": integer(""), "by_channel": counts, "calls_offered": integer(""), "calls_answered": integer(""),
				"calls_abandoned": integer(""), "answered_within_target": integer(""), "service_level": number(""),
				"closed": obj{"type": "boolean", "description": "the desk did not open that day by the calendar in force (a closed weekday or a holiday)"},
			})),
		}),
		"ReportStaffing": object([]string{"target_seconds", "target_level", "hours", "peak_agents"}, obj{
			"from": str(""), "to": str(""), "comune": nullable("string", ""), "target_seconds": integer(""), "target_level": number(""),
			"wrap_up_seconds": integer(""), "peak_agents": integer(""),
			"hours": array(object([]string{"weekday", "hour", "calls_per_hour", "aht_seconds", "erlangs", "agents", "service_level"}, obj{
				"weekday": obj{"type": "string", "enum": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}, "hour": integer("0-23, local"),
				"calls": integer("calls offered in this weekday-hour over the range"), "calls_per_hour": number(""), "aht_seconds": number("average talk plus wrap-up"),
				"erlangs": number(""), "agents": integer(""), "service_level": number("Erlang C service level with that many agents"),
			})),
		}),
	}
}

func withReportSchemas(s obj) obj {
	for k, v := range reportSchemas() {
		s[k] = v
	}
	return s
}
