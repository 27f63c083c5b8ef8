package notifyapi

// The OpenAPI 3.1 document, written as data. Schemas use JSON Schema 2020-12 (OpenAPI 3.1's
// dialect): nullable values are type arrays with "null".

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func nullable(t string, desc string) obj {
	return obj{"type": []string{t, "null"}, "description": desc}
}

func dateTime(desc string) obj {
	return obj{"type": "string", "format": "date-time", "description": desc}
}

func nullableDateTime(desc string) obj {
	return obj{"type": []string{"string", "null"}, "format": "date-time", "description": desc}
}

func integer(desc string) obj { return obj{"type": "integer", "description": desc} }

func array(items obj) obj { return obj{"type": "array", "items": items} }

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func listOf(item string) obj {
	return object([]string{"items", "next_cursor"}, obj{
		"items":       array(ref(item)),
		"next_cursor": str("cursor of the next page; empty at the end"),
	})
}

func jsonBody(schema obj) obj {
	return obj{"required": true, "content": obj{"application/json": obj{"schema": schema}}}
}

func jsonResponse(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func errorResponse(desc string) obj { return jsonResponse(desc, ref("Error")) }

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string"}, "description": desc}
}

func queryParam(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "required": false, "schema": schema, "description": desc}
}

var (
	limitParam  = queryParam("limit", "page size", obj{"type": "integer", "minimum": 1, "maximum": 200})
	cursorParam = queryParam("cursor", "the next_cursor of the previous page", obj{"type": "string"})
)

// operation builds one operation with the common error responses of its security.
func operation(tag, id, summary string, security string, params []obj, body obj, responses obj) obj {
	op := obj{"tags": []string{tag}, "operationId": id, "summary": summary, "responses": responses}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if body != nil {
		op["requestBody"] = body
	}
	switch security {
	case "key":
		op["security"] = []obj{{"comuneKey": []string{}}}
		responses["401"] = errorResponse("missing, unknown or revoked API key")
		responses["429"] = obj{"description": "over the key's requests per minute, counted across every replica", "headers": obj{"Retry-After": obj{"schema": obj{"type": "integer"}}},
			"content": obj{"application/json": obj{"schema": ref("Error")}}}
	case "user":
		op["security"] = []obj{{"userToken": []string{}}, {"session": []string{}}}
		responses["401"] = errorResponse("missing or invalid token or session")
	default:
		op["security"] = []obj{}
	}
	return op
}

func openAPIDocument() obj {
	ok := func(desc, schema string) obj { return jsonResponse(desc, ref(schema)) }
	bad := errorResponse("bad input: the error names the problem; nothing was changed")
	notFound := errorResponse("not found, or not within the caller's scope (another comune's)")
	forbidden := errorResponse("the caller's role does not allow it, or a cookie request without the CSRF token")
	id := pathParam("id", "the contact's id")
	paths := obj{
		// Notification API for comuni.
		"/api/v1/alerts": obj{
			"post": operation("alerts", "createAlert", "Send an alert to the comune's subscribers (JSON or CAP 1.2)", "key", []obj{
				{"name": "Idempotency-Key", "in": "header", "required": false, "schema": obj{"type": "string", "maxLength": 200},
					"description": "a repeated key returns the alert created the first time (JSON only; CAP uses sender and identifier)"},
			}, obj{"required": true, "content": obj{
				"application/json":    obj{"schema": ref("AlertRequest")},
				"application/cap+xml": obj{"schema": obj{"type": "string", "description": "a CAP 1.2 <alert> (urn:oasis:names:tc:emergency:cap:1.2): msgType Alert creates, Update replaces the referenced alert, Cancel cancels it; status Actual and scope Public only; headline and description become the text, expires the expiry; parameter 'category' (else the event) and 'topics' are read"}},
			}}, obj{
				"202": ok("accepted: the alert is sending (or scheduled); a repeat of the same CAP identifier or Idempotency-Key returns the first alert with duplicate true", "AlertAccepted"),
				"400": bad, "404": errorResponse("a CAP Update or Cancel references no alert of this comune"),
				"413": errorResponse("body too large"), "415": errorResponse("neither JSON nor CAP"),
			}),
			"get": operation("alerts", "listAlerts", "The comune's alerts, newest first", "key", []obj{
				queryParam("status", "only alerts in this status", obj{"type": "string", "enum": []string{"scheduled", "sending", "sent", "cancelled", "superseded", "expired"}}),
				queryParam("category", "only alerts of this category", obj{"type": "string"}),
				limitParam, cursorParam,
			}, nil, obj{"200": ok("a page of alerts (without counts)", "AlertList"), "400": bad}),
		},
		"/api/v1/alerts/{id}": obj{
			"get": operation("alerts", "getAlert", "One alert with its delivery counts", "key", []obj{pathParam("id", "the alert's id")}, nil,
				obj{"200": ok("the alert", "Alert"), "404": notFound}),
		},
		"/api/v1/alerts/{id}/cancel": obj{
			"post": operation("alerts", "cancelAlert", "Stop what the alert has not sent yet", "key", []obj{pathParam("id", "the alert's id")}, nil,
				obj{"200": ok("the alert, cancelled (an alert already ended keeps its status)", "Alert"), "404": notFound}),
		},
		"/api/v1/subscribers": obj{
			"post": operation("subscribers", "createSubscriber", "Subscribe a mobile number (pending until the citizen answers SI), a fiscal code for App IO, or both", "key", nil,
				jsonBody(ref("SubscriberRequest")), obj{
					"202": ok("pending until the citizen answers SI. A confirmation request SMS goes out unless the number got one in the last 24 hours (from any comune) or said STOP; each one sent counts as a request against the key's limit", "Subscriber"),
					"200": ok("already confirmed: only the topics changed; or by fiscal code alone, confirmed at once (App IO asks the citizen's consent: the comune's service switched on in the app)", "Subscriber"),
					"400": bad,
				}),
		},
		"/api/v1/subscribers/{phone}": obj{
			"get": operation("subscribers", "getSubscriber", "A subscription with its consent records", "key", []obj{pathParam("phone", "the number, E.164 (+ may be %2B) or national")}, nil,
				obj{"200": ok("the subscription", "Subscriber"), "400": bad, "404": notFound}),
			"delete": operation("subscribers", "deleteSubscriber", "Remove a subscription (the consent trail and any STOP stay)", "key", []obj{pathParam("phone", "the number")}, nil,
				obj{"204": obj{"description": "removed"}, "400": bad, "404": notFound}),
		},
		"/api/v1/openapi.json": obj{
			"get": operation("meta", "getOpenAPI", "This document", "none", nil, nil,
				obj{"200": obj{"description": "the OpenAPI 3.1 document of /api/v1", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}}),
		},

		// Operator API.
		"/api/v1/contacts": obj{
			"get": operation("contacts", "listContacts", "Contacts, newest first, within the user's comuni", "user", []obj{
				queryParam("channel", "", obj{"type": "string", "enum": []string{"sms", "email", "fax", "phone", "pec"}}),
				queryParam("comune", "a comune id, or - for the contacts whose comune is still to be decided", obj{"type": "string"}),
				queryParam("status", "", obj{"type": "string", "enum": []string{"open", "assigned", "resolved"}}),
				queryParam("queue", "", obj{"type": "string"}),
				queryParam("category", "", obj{"type": "string"}),
				queryParam("assignee", "", obj{"type": "string"}),
				queryParam("q", "words in the subject or body", obj{"type": "string"}),
				limitParam, cursorParam,
			}, nil, obj{"200": ok("a page of contacts", "ContactList"), "400": bad}),
		},
		"/api/v1/contacts/{id}": obj{
			"get": operation("contacts", "getContact", "One contact with its whole thread, oldest first", "user", []obj{id}, nil,
				obj{"200": ok("the contact with messages", "Contact"), "404": notFound}),
		},
		"/api/v1/contacts/{id}/attachments/{attachment_id}": obj{
			"get": operation("contacts", "getAttachment", "An attachment's bytes", "user", []obj{id, pathParam("attachment_id", "the attachment's id")}, nil,
				obj{"200": obj{"description": "the bytes, with the attachment's content type", "content": obj{"application/octet-stream": obj{"schema": obj{"type": "string", "format": "binary"}}}}, "404": notFound,
					"502": errorResponse("media the provider keeps (MMS, recordings) could not be fetched from it")}),
		},
		"/api/v1/contacts/{id}/attachments/{attachment_id}/preview": obj{
			"get": operation("contacts", "getAttachmentPreview", "A PNG preview of an image or PDF attachment", "user", []obj{id, pathParam("attachment_id", "the attachment's id")}, nil,
				obj{"200": obj{"description": "a PNG image", "content": obj{"image/png": obj{"schema": obj{"type": "string", "format": "binary"}}}}, "404": notFound}),
		},
		"/api/v1/contacts/{id}/reply": obj{
			"post": operation("contacts", "replyToContact", "Answer on the contact's own channel (SMS, email, fax; PEC through email.pec_relay from the comune's pec_address), or by App IO", "user", []obj{id},
				jsonBody(object([]string{"body"}, obj{"body": str("the answer"),
					"channel": obj{"type": "string", "enum": []string{"", "app_io"}, "description": "app_io: to the citizen's App IO inbox (they need a fiscal code, the comune an App IO service); default the contact's own channel"}})),
				obj{"202": ok("the outbound message, queued", "Message"), "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/contacts/{id}/assign": obj{
			"post": operation("contacts", "assignContact", "Assign the contact to an operator", "user", []obj{id},
				jsonBody(object([]string{"username"}, obj{"username": str("the operator")})),
				obj{"200": ok("the contact", "Contact"), "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/contacts/{id}/claim": obj{
			"post": operation("contacts", "claimContact", "Take a waiting contact for oneself", "user", []obj{id}, nil,
				obj{"200": ok("the contact", "Contact"), "400": bad, "403": forbidden, "404": notFound, "409": errorResponse("already taken")}),
		},
		"/api/v1/contacts/{id}/resolve": obj{
			"post": operation("contacts", "resolveContact", "Close the contact with its outcome (forwarded_email emails it to the office)", "user", []obj{id},
				jsonBody(object([]string{"outcome"}, obj{
					"outcome":  obj{"type": "string", "enum": []string{"first_level", "transferred_phone", "forwarded_email"}},
					"category": str("the category, if the operator corrects it"),
					"office":   str("the competent office (transfers and forwards)"),
					"note":     str("the operator's note"),
				})),
				obj{"200": ok("the contact", "Contact"), "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/contacts/{id}/callback": obj{
			"post": operation("contacts", "callBackContact", "Call the citizen back: the operator's phone or browser rings first, then the citizen", "user", []obj{id}, nil,
				obj{"202": jsonResponse("the call is being placed", object([]string{"contact_id", "call_sid"}, obj{"contact_id": str(""), "call_sid": str("Twilio's CallSid")})),
					"400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/contacts/{id}/hold": obj{
			"post": operation("contacts", "holdCall", "Put the caller's live call on hold (parked in a queue of its own) or take it back (the operator's phone or browser rings again)", "user", []obj{id},
				jsonBody(object([]string{"hold"}, obj{"hold": obj{"type": "boolean"}})),
				obj{"200": jsonResponse("done", object([]string{"contact_id", "hold"}, obj{"contact_id": str(""), "hold": obj{"type": "boolean"}})),
					"400": bad, "404": notFound, "409": errorResponse("not the caller's live call")}),
		},
		"/api/v1/contacts/{id}/recording": obj{
			"get": operation("contacts", "getCallRecording", "The recording of the contact's answered call (voice.record), streamed through the gateway", "user", []obj{id}, nil,
				obj{"200": obj{"description": "the audio", "content": obj{"audio/mpeg": obj{"schema": obj{"type": "string", "format": "binary"}}}}, "404": notFound}),
		},
		"/api/v1/voice/token": obj{
			"get": operation("desk", "getVoiceToken", "An access token for the caller's browser softphone (Twilio Voice grant)", "user", nil, nil,
				obj{"200": jsonResponse("the token", object([]string{"token", "identity", "ttl_seconds"}, obj{"token": str("a JWT"), "identity": str("the client identity"), "ttl_seconds": integer("")})),
					"503": errorResponse("the softphone is not configured")}),
		},
		"/api/v1/contacts/{id}/route": obj{
			"post": operation("contacts", "routeContact", "Decide a contact's comune (when it was to be decided) and/or correct its category; it is routed again", "user", []obj{id},
				jsonBody(object(nil, obj{
					"comune":   str("the comune the contact concerns: one of the caller's, or, for a contact still undecided, any of shared_comuni"),
					"category": str("the corrected category"),
				})),
				obj{"200": ok("the contact", "Contact"), "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/citizens/{id}": obj{
			"get": operation("citizens", "getCitizen", "A citizen's identities and every contact of theirs on every channel", "user", []obj{pathParam("id", "the citizen's id")}, nil,
				obj{"200": ok("the citizen", "Citizen"), "404": notFound}),
		},
		"/api/v1/citizens/{id}/merge": obj{
			"post": operation("citizens", "mergeCitizen", "Fold another citizen (identities and contacts) into this one", "user", []obj{pathParam("id", "the citizen that stays")},
				jsonBody(object([]string{"citizen_id"}, obj{"citizen_id": str("the citizen folded in")})),
				obj{"200": ok("the merged citizen", "Citizen"), "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/citizens/{id}/fiscal_code": obj{
			"post": operation("citizens", "addFiscalCode", "Give the citizen a codice fiscale (check character verified; audited)", "user", []obj{pathParam("id", "the citizen")},
				jsonBody(object([]string{"fiscal_code"}, obj{"fiscal_code": str("the codice fiscale; spaces and case do not matter")})),
				obj{"200": ok("the citizen", "Citizen"), "400": bad, "403": forbidden, "404": notFound, "409": errorResponse("another citizen has that fiscal code: merge them")}),
		},
		"/api/v1/citizens/{id}/export": obj{
			"get": operation("citizens", "exportCitizen", "Everything kept about a citizen, as a ZIP (GDPR art. 15 and 20; admins): citizen.json, contacts.json (every contact with its whole thread), consents.json (subscriptions, consent trail, STOP list) and attachments/ID_FILENAME with the original bytes. A scoped admin gets the contacts of their comuni. The export is audited.",
				"user", []obj{pathParam("id", "the citizen's id")}, nil,
				obj{"200": obj{"description": "the archive", "content": obj{"application/zip": obj{"schema": obj{"type": "string", "format": "binary"}}}},
					"403": forbidden, "404": notFound}),
		},
		"/api/v1/citizens/{id}/erase": obj{
			"post": operation("citizens", "eraseCitizen", "Erase a citizen's personal data (GDPR art. 17; admins): identities and names are deleted, texts and addresses become [cancellato], attachments and recordings go (a file's bytes when no other contact uses them), alert subscriptions end (the STOP list keeps only a keyed hash of the number); what reports count stays. The audit log records who and why, with the erased values taken out of the reason. A scoped admin may erase only a citizen whose every contact and alert subscription is in their comuni (403 out_of_scope).",
				"user", []obj{pathParam("id", "the citizen's id")},
				jsonBody(object([]string{"reason"}, obj{"reason": str("why (kept in the audit log; at most 500 characters)")})),
				obj{"200": jsonResponse("erased", object([]string{"citizen_id", "erased"}, obj{
					"citizen_id": str(""),
					"erased": object(nil, obj{
						"contacts": integer(""), "messages": integer(""), "attachments": integer(""), "blobs": integer("files whose bytes were deleted"),
						"recordings": integer(""), "identities": integer(""), "subscriptions": integer(""), "audit_entries": integer("older entries the erased values were taken out of"),
						"files_scrubbed": obj{"type": "boolean", "description": "SQLite: the WAL was checkpointed and truncated; PostgreSQL: the touched tables were vacuumed"},
					}),
				})), "400": bad, "403": forbidden, "404": notFound}),
		},
		"/api/v1/queues": obj{
			"get": operation("desk", "listQueues", "Queues with waiting contacts, oldest wait and operators available", "user", nil, nil,
				obj{"200": jsonResponse("every queue", array(ref("Queue")))}),
		},
		"/api/v1/offices": obj{
			"get": operation("desk", "listOffices", "A comune's competent offices", "user", []obj{queryParam("comune", "the comune", obj{"type": "string"})}, nil,
				obj{"200": jsonResponse("the offices", object([]string{"items", "next_cursor"}, obj{"items": array(ref("Office")), "next_cursor": str("always empty")}))}),
		},
		"/api/v1/me": obj{
			"get": operation("desk", "getMe", "The caller", "user", nil, nil, obj{"200": ok("the caller", "Me")}),
		},
		"/api/v1/me/status": obj{
			"put": operation("desk", "setMyStatus", "Set the caller's presence", "user", nil,
				jsonBody(object([]string{"status"}, obj{"status": obj{"type": "string", "enum": []string{"available", "away", "offline"}}})),
				obj{"200": jsonResponse("the new presence", object([]string{"status"}, obj{"status": str("")})), "400": bad, "403": forbidden}),
		},
		"/api/v1/events": obj{
			"get": operation("desk", "streamEvents", "Server-Sent Events: new and changed contacts, live; each event's data is the contact's JSON", "user", nil, nil,
				obj{"200": obj{"description": "an event stream", "content": obj{"text/event-stream": obj{"schema": obj{"type": "string"}}}}}),
		},
		"/api/v1/users": obj{
			"get": operation("desk", "listUsers", "Every user with presence, capacity and open contacts (supervisors)", "user", nil, nil,
				obj{"200": ok("the users", "UserList"), "403": forbidden}),
		},
		"/api/v1/audit": obj{
			"get": operation("desk", "listAudit", "The audit log, newest first (admins)", "user", []obj{
				queryParam("actor", "", obj{"type": "string"}), queryParam("action", "", obj{"type": "string"}),
				queryParam("contact_id", "", obj{"type": "string"}),
				queryParam("from", "entries at or after this time", obj{"type": "string", "format": "date-time"}),
				queryParam("to", "entries before this time", obj{"type": "string", "format": "date-time"}), limitParam, cursorParam,
			}, nil, obj{"200": ok("a page of the log", "AuditList"), "400": bad, "403": forbidden}),
		},
	}
	for k, v := range reportPaths() {
		paths[k] = v
	}
	for k, v := range cannedPaths() {
		paths[k] = v
	}
	withAdminPaths(paths)
	return obj{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info": obj{
			"title":   "Sportello API",
			"version": "1",
			"description": "The operators' API (bearer user token, or the web inbox's session cookie with its CSRF token for unsafe methods) and the comuni's notification API (bearer comune API key: a key sees and touches only its own comune; anything else is 404). " +
				"Errors are {\"error\": {\"code\", \"message\"}}; lists are {\"items\", \"next_cursor\"}; times are RFC 3339.",
		},
		"servers": []obj{{"url": "/"}},
		"tags": []obj{
			{"name": "alerts", "description": "SMS alerts of a comune (comune API key)"},
			{"name": "subscribers", "description": "SMS subscriptions of a comune (comune API key)"},
			{"name": "contacts", "description": "the operators' contacts"},
			{"name": "citizens", "description": "citizens across channels"},
			{"name": "desk", "description": "queues, presence, events and administration"},
			{"name": "reports", "description": "figures of the service (supervisors; a comune's key reads its own summary)"},
			{"name": "meta", "description": "this document"},
		},
		"paths": paths,
		"components": obj{
			"securitySchemes": obj{
				"comuneKey": obj{"type": "http", "scheme": "bearer", "description": "a comune API key (sportello apikey create --comune ID)"},
				"userToken": obj{"type": "http", "scheme": "bearer", "description": "a user's API token (sportello token create --username U)"},
				"session":   obj{"type": "apiKey", "in": "cookie", "name": "sportello_session", "description": "the web inbox's session; unsafe methods also need the X-CSRF-Token header"},
			},
			"schemas": withAdminSchemas(withCannedSchemas(withReportSchemas(schemas()))),
		},
	}
}

func schemas() obj {
	counts := object([]string{"queued", "sent", "delivered", "failed"}, obj{
		"queued":    integer("waiting to be handed to the provider (all recipients of a scheduled alert)"),
		"sending":   integer("handed over, answer pending"),
		"sent":      integer("accepted by the provider"),
		"delivered": integer("delivered to the handset"),
		"failed":    integer("refused or undelivered"),
		"cancelled": integer("not sent: the alert was cancelled, replaced or expired, or the number said STOP"),
	})
	cost := object([]string{"encoding", "units", "segments"}, obj{
		"encoding": obj{"type": "string", "enum": []string{"GSM-7", "UCS-2"}},
		"units":    integer("septets (GSM-7) or UTF-16 units (UCS-2)"),
		"segments": integer("SMS segments each recipient costs"),
		"non_gsm":  array(obj{"type": "string", "description": "a character that forced UCS-2"}),
	})
	alert := object([]string{"id", "comune", "category", "message", "status", "recipients", "counts", "created_at"}, obj{
		"id": str(""), "comune": str(""), "category": str(""),
		"message":    str("the text as given"),
		"message_en": nullable("string", "the English text as given"),
		"text":       str("what Italian subscribers receive: the message through the comune's template"),
		"text_en":    str("what English subscribers receive"),
		"topics":     array(obj{"type": "string"}),
		"status":     obj{"type": "string", "enum": []string{"scheduled", "sending", "sent", "cancelled", "superseded", "expired"}},
		"recipients": integer("subscribers the alert goes to (an estimate while scheduled)"),
		"counts":     counts,
		"segments":   integer("SMS segments of the Italian text"),
		"encoding":   obj{"type": "string", "enum": []string{"GSM-7", "UCS-2"}},
		"gsm7_safe":  obj{"type": "boolean"},
		"source":     obj{"type": "string", "enum": []string{"api", "cap", "page"}},
		"replaces":   nullable("string", "the alert a CAP Update replaced"),
		"send_at":    dateTime(""), "expires_at": nullableDateTime(""), "started_at": nullableDateTime(""),
		"finished_at": nullableDateTime(""), "cancelled_at": nullableDateTime(""), "created_at": dateTime(""),
		"urgent":     obj{"type": "boolean", "description": "sent even during alerts.quiet_hours"},
		"quiet_held": obj{"type": "boolean", "description": "the quiet hours postponed the alert: send_at is their end"},
		"channels":   array(obj{"type": "string", "enum": []string{"sms", "app_io"}}),
		"counts_by_channel": obj{"type": "object", "description": "alerts that may use App IO: counts split by the channel each recipient was reached on (sms, app_io; \"\" = not sent yet)",
			"additionalProperties": counts},
		"stalled": obj{"description": "set while a sending alert makes no progress (alerts.stall_after), with the reason; else null",
			"oneOf": []obj{object([]string{"since", "reason"}, obj{"since": dateTime("when the stall was noticed"), "reason": str("why")}), {"type": "null"}}},
	})
	contact := object([]string{"id", "channel", "direction", "comune", "citizen", "from", "to", "subject", "body", "attachments", "category", "queue", "status", "assignee", "outcome", "call", "external_id", "received_at"}, obj{
		"id": str(""), "channel": obj{"type": "string", "enum": []string{"sms", "email", "fax", "phone", "pec"}},
		"direction": obj{"type": "string", "enum": []string{"inbound", "outbound"}},
		"comune":    nullable("string", ""), "citizen": obj{"oneOf": []obj{ref("CitizenRef"), {"type": "null"}}},
		"from": str(""), "to": str(""), "from_name": str(""), "subject": str(""), "body": str(""),
		"attachments": array(ref("Attachment")), "category": nullable("string", ""), "queue": nullable("string", ""),
		"status":   obj{"type": "string", "enum": []string{"open", "assigned", "resolved"}},
		"assignee": nullable("string", ""), "outcome": nullable("string", ""), "office": nullable("string", ""), "note": str(""),
		"call":        obj{"oneOf": []obj{ref("Call"), {"type": "null"}}},
		"external_id": str("the provider's id: MessageSid, CallSid, CTI callId or Message-ID"),
		"auto_reply":  obj{"type": "boolean"}, "priority": integer(""), "escalated": obj{"type": "boolean"},
		"received_at": dateTime(""), "updated_at": dateTime(""), "resolved_at": nullableDateTime(""),
		"messages":         array(ref("Message")),
		"pec":              obj{"oneOf": []obj{ref("PEC"), {"type": "null"}}, "description": "the certification of a pec contact's envelope; null on other channels"},
		"delivery_overdue": obj{"type": "boolean", "description": "an outbound message of the thread (a PEC reply) got no delivery receipt within email.pec_delivery_timeout"},
	})
	return obj{
		"Error": object([]string{"error"}, obj{"error": object([]string{"code", "message"}, obj{
			"code": str("stable machine-readable code"), "message": str("what is wrong, for people"),
		})}),
		"AlertRequest": object([]string{"category", "message"}, obj{
			"category":   str("one of the configured categories (blocco-traffico, ...)"),
			"message":    obj{"type": "string", "description": "the text; at most alerts.max_message_chars characters", "minLength": 1},
			"message_en": str("the text for subscribers who subscribed in English (default: message)"),
			"topics":     obj{"type": "array", "items": obj{"type": "string"}, "description": "the comune's topics; none: every subscriber"},
			"send_at":    obj{"type": []string{"string", "null"}, "format": "date-time", "description": "later sending; in the past is an error"},
			"expires_at": obj{"type": []string{"string", "null"}, "format": "date-time", "description": "after it nothing more is sent and BLOCCO stops citing it"},
			"gsm7_safe":  obj{"type": "boolean", "description": "rewrite to the GSM-7 alphabet (È -> E', € -> EUR, curly quotes -> straight)"},
			"urgent":     obj{"type": "boolean", "description": "send even during alerts.quiet_hours (default 21:00-08:00); otherwise an alert due then is scheduled for their end"},
			"channels": obj{"type": "array", "items": obj{"type": "string", "enum": []string{"sms", "app_io"}},
				"description": "default [\"sms\"]; with app_io a subscriber with a fiscal code whose App IO profile accepts the comune's service gets an App IO message and no SMS, the others an SMS where a phone is known"},
		}),
		"AlertAccepted": object([]string{"id", "status", "recipients"}, obj{
			"id": str(""), "status": str("sending, scheduled, sent (no recipients), or cancelled (CAP Cancel)"),
			"recipients": integer(""),
			"action":     obj{"type": "string", "enum": []string{"created", "replaced", "cancelled"}},
			"duplicate":  obj{"type": "boolean", "description": "the same CAP identifier or Idempotency-Key was received before: this is that alert"},
			"segments":   integer(""), "encoding": str(""), "cost": cost, "text": str(""),
			"send_at":    dateTime("when the alert goes: later than now when scheduled or held by the quiet hours"),
			"urgent":     obj{"type": "boolean"},
			"quiet_held": obj{"type": "boolean", "description": "the quiet hours postponed the alert to send_at"},
		}),
		"Alert":     alert,
		"AlertList": listOf("Alert"),
		"SubscriberRequest": object(nil, obj{
			"phone":       str("a mobile number, E.164 or national (Italian); phone or fiscal_code (or both) is required"),
			"fiscal_code": str("a codice fiscale (check character verified; an invalid one is 400), for App IO"),
			"topics":      array(obj{"type": "string"}),
			"lang":        obj{"type": "string", "enum": []string{"it", "en"}},
		}),
		"Subscriber": object([]string{"phone", "comune", "status", "topics", "consents"}, obj{
			"phone": str("E.164; \"\" for a subscription by fiscal code alone"), "comune": str(""),
			"fiscal_code": nullable("string", "the codice fiscale App IO reaches the citizen by"),
			"status":      obj{"type": "string", "enum": []string{"pending", "confirmed", "stopped"}},
			"topics":      array(obj{"type": "string"}), "lang": obj{"type": "string", "enum": []string{"it", "en"}},
			"source":     obj{"type": "string", "enum": []string{"sms", "api", "import", "page"}},
			"created_at": dateTime(""), "updated_at": dateTime(""), "confirmed_at": nullableDateTime(""),
			"consents": array(ref("Consent")),
		}),
		"Consent": object([]string{"action", "via", "actor", "at"}, obj{
			"action": obj{"type": "string", "enum": []string{"subscribe", "request", "confirm", "stop", "remove", "import"}},
			"via":    obj{"type": "string", "enum": []string{"sms", "api", "import", "carrier", "page"}},
			"actor":  str("the number that texted, apikey:<id>, import:<file>, or the provider"),
			"comune": nullable("string", "null for a STOP, which concerns every comune"),
			"topics": array(obj{"type": "string"}), "detail": str(""), "at": dateTime(""),
		}),
		"Contact":     contact,
		"ContactList": listOf("Contact"),
		"CitizenRef":  object([]string{"id"}, obj{"id": str(""), "name": str(""), "phone": nullable("string", ""), "email": nullable("string", ""), "fax": nullable("string", "")}),
		"Citizen": object([]string{"id", "identities", "contacts"}, obj{
			"id": str(""), "name": str(""), "comune": nullable("string", ""), "phone": nullable("string", ""), "email": nullable("string", ""), "fax": nullable("string", ""),
			"fiscal_code": nullable("string", "the citizen's codice fiscale"),
			"identities":  array(object([]string{"kind", "value"}, obj{"kind": obj{"type": "string", "enum": []string{"phone", "email", "fax", "fiscal_code"}}, "value": str("")})),
			"contacts":    array(ref("Contact")),
			"erased_at":   dateTime("when the citizen's personal data was erased (absent when it was not)"),
		}),
		"Attachment": object([]string{"id", "filename", "content_type", "size"}, obj{
			"id": str(""), "filename": str(""), "content_type": str(""), "size": integer("bytes"), "pages": obj{"type": []string{"integer", "null"}},
			"sha256": str(""), "url": str("MMS media URL"),
		}),
		"Call": object([]string{"status", "duration_seconds"}, obj{
			"status": str(""), "duration_seconds": integer(""), "recording_url": nullable("string", ""),
			"answered_at": nullableDateTime(""), "operator": str(""),
		}),
		"Message": object([]string{"id", "contact_id", "direction", "channel", "body", "created_at"}, obj{
			"id": str(""), "contact_id": str(""), "direction": obj{"type": "string", "enum": []string{"inbound", "outbound"}},
			"channel": str(""), "from": str(""), "to": str(""), "subject": str(""), "body": str(""),
			"attachments": array(ref("Attachment")), "external_id": str(""), "message_id": str(""), "in_reply_to": str(""),
			"references": array(obj{"type": "string"}), "status": str("delivery state of an outbound message"), "error": str(""),
			"author": str(""), "notes": array(obj{"type": "string"}), "created_at": dateTime(""),
			"delivery": obj{"type": []string{"string", "null"}, "enum": []any{"queued", "sent", "accepted", "delivered", "failed", nil},
				"description": "what the recipient's side confirmed of an outbound message (PEC receipts: accettazione = accepted, avvenuta-consegna = delivered, non-accettazione / errore-consegna / rilevazione-virus = failed; SMS: the provider's status; App IO: delivered = PROCESSED); null while unknown and for inbound"},
			"delivery_due_at":  dateTime("when an outbound PEC without a delivery receipt is flagged"),
			"delivery_overdue": obj{"type": "boolean", "description": "delivery_due_at passed without a delivery or failure receipt"},
			"pec":              ref("PEC"),
		}),
		"PEC": object([]string{"id", "sender", "sent_at", "provider", "envelope_sha256", "signature", "anomaly"}, obj{
			"id":               str("the identificativo of daticert.xml"),
			"sender":           str("the certified sender (mittente)"),
			"sent_at":          nullableDateTime("the time of daticert.xml"),
			"provider":         str("gestore-emittente"),
			"envelope_sha256":  str("hex SHA-256 of the raw envelope, kept byte for byte as the attachment envelope.eml"),
			"signature":        obj{"type": "string", "enum": []string{"valid", "untrusted", "invalid", "absent"}, "description": "the provider's S/MIME signature: valid = chains to email.pec_trusted_roots"},
			"signature_detail": str("why a signature is not valid"), "signer": str("the signing certificate's subject"),
			"anomaly": obj{"type": "boolean", "description": "an anomaly envelope (X-Trasporto: errore): the provider could not certify the message"},
		}),
		"Queue": object([]string{"id", "name", "waiting", "oldest_wait_seconds", "operators_available"}, obj{
			"id": str(""), "name": str(""), "waiting": integer(""), "oldest_wait_seconds": integer(""), "operators_available": integer(""),
		}),
		"Office": object([]string{"id", "name"}, obj{"id": str(""), "name": str(""), "email": str(""), "phone": str(""), "categories": array(obj{"type": "string"})}),
		"Me": object([]string{"id", "username", "role"}, obj{
			"id": str(""), "username": str(""), "name": str(""), "role": obj{"type": "string", "enum": []string{"operator", "supervisor", "admin"}},
			"comuni": array(obj{"type": "string"}), "categories": array(obj{"type": "string"}), "capacity": integer(""), "presence": str(""),
		}),
		"OperatorState": object([]string{"id", "username", "role", "presence"}, obj{
			"id": str(""), "username": str(""), "name": str(""), "role": str(""), "comuni": array(obj{"type": "string"}),
			"categories": array(obj{"type": "string"}), "capacity": integer(""), "presence": str(""),
			"presence_since": dateTime(""), "last_assigned_at": dateTime(""), "open": integer("open contacts assigned"),
		}),
		"UserList": listOf("OperatorState"),
		"AuditEntry": object([]string{"id", "at", "actor", "action"}, obj{
			"id": str(""), "at": dateTime(""), "actor": str(""), "action": str(""), "contact_id": nullable("string", ""),
			"citizen_id": nullable("string", ""), "target": str(""), "detail": str(""),
			"comune": str("the comune an entry about neither a contact nor a citizen concerns (an API key, a canned answer, hours); absent for one about a person"),
		}),
		"AuditList": listOf("AuditEntry"),
	}
}
