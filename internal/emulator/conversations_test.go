package emulator

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const openPath = "/api/v2/conversations/messages/8a1c0e55-0000-4000-8000-00000000abcd/inbound/open/message"

func TestInboundOpenMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	body := `{"channel":{"from":{"id":"+15551234","idType":"Phone","firstName":"Ada"},"time":"2026-05-01T11:59:00.000Z","messageId":"m-1"},"text":"hello"}`
	rec := e.do("POST", openPath+"?prefetchConversationId=true", tok, body)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b := decodeMap(t, rec.Body.Bytes())
	convID, _ := b["conversationId"].(string)
	if !uuidRE.MatchString(convID) || !uuidRE.MatchString(b["id"].(string)) {
		t.Fatalf("ids: %v", b)
	}
	wantChannel := map[string]any{
		"id": "8a1c0e55-0000-4000-8000-00000000abcd", "platform": "Open", "type": "Private", "messageId": "m-1",
		"to":   map[string]any{"id": "8a1c0e55-0000-4000-8000-00000000abcd"},
		"from": map[string]any{"id": "+15551234", "idType": "Phone", "firstName": "Ada"},
		"time": "2026-05-01T11:59:00.000Z",
	}
	if diff := cmp.Diff(wantChannel, b["channel"]); diff != "" {
		t.Errorf("channel (-want +got):\n%s", diff)
	}
	if b["type"] != "Text" || b["text"] != "hello" {
		t.Errorf("type/text = %v/%v", b["type"], b["text"])
	}
	// The same sender joins the same conversation; without prefetch the
	// id is not returned.
	rec = e.do("POST", openPath, tok, body)
	if _, ok := decodeMap(t, rec.Body.Bytes())["conversationId"]; ok || rec.Code != 200 {
		t.Errorf("without prefetch: %d %s", rec.Code, rec.Body)
	}
	rec = e.do("POST", openPath+"?prefetchConversationId=true", tok, body)
	if got := decodeMap(t, rec.Body.Bytes())["conversationId"]; got != convID {
		t.Errorf("joined conversation %v, want %s", got, convID)
	}
	// It is readable as a conversation and as a message conversation.
	rec = e.do("GET", "/api/v2/conversations/"+convID, tok, "")
	if rec.Code != 200 {
		t.Fatalf("GET: %d", rec.Code)
	}
	c := decodeMap(t, rec.Body.Bytes())
	if c["id"] != convID || c["startTime"] != "2026-05-01T12:00:00.000Z" || c["selfUri"] != "/api/v2/conversations/"+convID || len(c["participants"].([]any)) != 2 {
		t.Errorf("conversation = %s", rec.Body)
	}
	if rec := e.do("GET", "/api/v2/conversations/messages/"+convID, tok, ""); rec.Code != 200 {
		t.Errorf("GET messages/{id}: %d", rec.Code)
	}
	checkError(t, e.do("GET", "/api/v2/conversations/calls/"+convID, tok, ""), 404, "not.found")
}

func TestInboundOpenMessageValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	for _, tc := range []struct {
		name, query, body, code string
		details                 [][2]string
	}{
		{"no channel", "", `{"text":"x"}`, "bad.request", [][2]string{{"channel", "field.required"}}},
		{"no from", "", `{"channel":{},"text":"x"}`, "bad.request", [][2]string{{"channel.from", "field.required"}}},
		{"no id, no idType", "", `{"channel":{"from":{}},"text":"x"}`, "bad.request",
			[][2]string{{"channel.from.id", "field.required"}, {"channel.from.idType", "field.required"}}},
		{"bad idType", "", `{"channel":{"from":{"id":"a","idType":"Fax"}},"text":"x"}`, "invalid.value",
			[][2]string{{"channel.from.idType", "invalid.value"}}},
		{"no text or content", "", `{"channel":{"from":{"id":"a","idType":"Opaque"}}}`, "bad.request", [][2]string{{"text", "field.required"}}},
		{"bad prefetch", "?prefetchConversationId=maybe", `{}`, "invalid.value", [][2]string{{"prefetchConversationId", "invalid.value"}}},
		{"wrong type", "", `{"channel":{"from":{"id":5,"idType":"Opaque"}},"text":"x"}`, "invalid.value", [][2]string{{"channel.from.id", "invalid.type"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := checkError(t, e.do("POST", openPath+tc.query, tok, tc.body), 400, tc.code)
			if diff := cmp.Diff(tc.details, details(b)); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
	// Structured content instead of text is accepted.
	rec := e.do("POST", openPath, tok, `{"channel":{"from":{"id":"a","idType":"Opaque"}},"content":[{"contentType":"Attachment"}]}`)
	if rec.Code != 200 {
		t.Errorf("content only: %d %s", rec.Code, rec.Body)
	}
}

func TestBodyErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	for _, path := range []string{openPath, "/api/v2/conversations/messages/agentless", "/api/v2/conversations/messages", "/api/v2/conversations/calls"} {
		t.Run(path, func(t *testing.T) {
			b := checkError(t, e.do("POST", path, tok, `{"oops`), 400, "bad.request")
			if b["message"] != "The request could not be understood by the server due to malformed syntax." {
				t.Errorf("message = %v", b["message"])
			}
			checkError(t, e.do("POST", path, tok, `a=b`, "Content-Type", "text/plain"), 415, "unsupported.media.type")
			checkError(t, e.do("POST", path, tok, "", "Content-Type", "application/json"), 400, "bad.request")
			checkError(t, e.do("POST", path, "", `{}`), 401, "authentication.required")
		})
	}
}

func TestAgentless(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	rec := e.do("POST", "/api/v2/conversations/messages/agentless", tok,
		`{"fromAddress":"+15550001","toAddress":"+15550002","toAddressMessengerType":"sms","textBody":"hi"}`)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b := decodeMap(t, rec.Body.Bytes())
	for k, want := range map[string]any{"fromAddress": "+15550001", "toAddress": "+15550002", "messengerType": "sms",
		"textBody": "hi", "timestamp": "2026-05-01T12:00:00.000Z"} {
		if b[k] != want {
			t.Errorf("%s = %v, want %v", k, b[k], want)
		}
	}
	conv := b["conversationId"].(string)
	if rec := e.do("GET", "/api/v2/conversations/messages/"+conv, tok, ""); rec.Code != 200 {
		t.Errorf("GET: %d", rec.Code)
	}
	// useExistingActiveConversation reuses it.
	rec = e.do("POST", "/api/v2/conversations/messages/agentless", tok,
		`{"fromAddress":"+15550001","toAddress":"+15550002","toAddressMessengerType":"sms","textBody":"again","useExistingActiveConversation":true}`)
	if got := decodeMap(t, rec.Body.Bytes())["conversationId"]; got != conv {
		t.Errorf("reused %v, want %s", got, conv)
	}

	for _, tc := range []struct {
		name, body, code string
		details          [][2]string
	}{
		{"empty", `{}`, "bad.request", [][2]string{{"fromAddress", "field.required"}, {"toAddress", "field.required"},
			{"toAddressMessengerType", "field.required"}, {"textBody", "field.required"}}},
		{"bad type", `{"fromAddress":"a","toAddress":"b","toAddressMessengerType":"fax","textBody":"x"}`, "invalid.value",
			[][2]string{{"toAddressMessengerType", "invalid.value"}}},
		{"whatsapp needs template", `{"fromAddress":"a","toAddress":"b","toAddressMessengerType":"whatsapp","textBody":"x"}`, "bad.request",
			[][2]string{{"messagingTemplate", "field.required"}}},
		{"sms too long", `{"fromAddress":"a","toAddress":"b","toAddressMessengerType":"sms","textBody":"` + strings.Repeat("é", 766) + `"}`, "invalid.value",
			[][2]string{{"textBody", "field.too.long"}}},
		{"open too long", `{"fromAddress":"a","externalContactId":"c","toAddressMessengerType":"open","textBody":"` + strings.Repeat("x", 2001) + `"}`, "invalid.value",
			[][2]string{{"textBody", "field.too.long"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := checkError(t, e.do("POST", "/api/v2/conversations/messages/agentless", tok, tc.body), 400, tc.code)
			if diff := cmp.Diff(tc.details, details(b)); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
	for _, ok := range []string{
		`{"fromAddress":"a","toAddress":"b","toAddressMessengerType":"sms","textBody":"` + strings.Repeat("x", 765) + `"}`,
		`{"fromAddress":"a","toAddress":"b","toAddressMessengerType":"open","textBody":"` + strings.Repeat("x", 2000) + `"}`,
		`{"fromAddress":"integration-1","toAddress":"15550003","toAddressMessengerType":"whatsapp","messagingTemplate":{"responseId":"r1"}}`,
	} {
		if rec := e.do("POST", "/api/v2/conversations/messages/agentless", tok, ok); rec.Code != 200 {
			t.Errorf("%.60s…: %d %s", ok, rec.Code, rec.Body)
		}
	}
}

func TestCreateMessageExistingConversationRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig()) // active_for 10m, message_window 24h
	tok := e.demoToken()
	const body = `{"queueId":"q1","toAddress":"+15550009","toAddressMessengerType":"sms"}`
	const reuse = `{"queueId":"q1","toAddress":"+15550009","toAddressMessengerType":"sms","useExistingConversation":true}`
	rec := e.do("POST", "/api/v2/conversations/messages", tok, body)
	if rec.Code != 200 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	b := decodeMap(t, rec.Body.Bytes())
	id := b["id"].(string)
	if b["selfUri"] != "/api/v2/conversations/messages/"+id {
		t.Errorf("selfUri = %v", b["selfUri"])
	}
	// Connected: fails, even with useExistingConversation.
	checkError(t, e.do("POST", "/api/v2/conversations/messages", tok, body), 400, "bad.request")
	checkError(t, e.do("POST", "/api/v2/conversations/messages", tok, reuse), 400, "bad.request")
	// Disconnected but in the window: fails unless reused.
	e.clock.Advance(11 * time.Minute)
	checkError(t, e.do("POST", "/api/v2/conversations/messages", tok, body), 400, "bad.request")
	rec = e.do("POST", "/api/v2/conversations/messages", tok, reuse)
	if got := decodeMap(t, rec.Body.Bytes())["id"]; rec.Code != 200 || got != id {
		t.Errorf("reuse: %d id %v, want %s", rec.Code, got, id)
	}
	// After the window: a new conversation.
	e.clock.Advance(24 * time.Hour)
	tok = e.demoToken() // the old one expired with the day
	rec = e.do("POST", "/api/v2/conversations/messages", tok, body)
	if got := decodeMap(t, rec.Body.Bytes())["id"]; rec.Code != 200 || got == id {
		t.Errorf("after window: %d id %v", rec.Code, got)
	}
	// The old one reads as disconnected with an endTime.
	c := decodeMap(t, e.do("GET", "/api/v2/conversations/"+id, tok, "").Body.Bytes())
	if c["state"] != "disconnected" || c["endTime"] != "2026-05-01T12:10:00.000Z" {
		t.Errorf("old conversation state %v end %v", c["state"], c["endTime"])
	}
	b = checkError(t, e.do("POST", "/api/v2/conversations/messages", tok, `{"toAddressMessengerType":"pigeon"}`), 400, "bad.request")
	if diff := cmp.Diff([][2]string{{"queueId", "field.required"}, {"toAddress", "field.required"}, {"toAddressMessengerType", "invalid.value"}}, details(b)); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
}

func TestCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	rec := e.do("POST", "/api/v2/conversations/calls", tok, `{"phoneNumber":"+15551230000","callerId":"+15550000000","callQueueId":"q-1"}`)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b := decodeMap(t, rec.Body.Bytes())
	id := b["id"].(string)
	if b["selfUri"] != "/api/v2/conversations/calls/"+id {
		t.Errorf("selfUri = %v", b["selfUri"])
	}
	rec = e.do("GET", "/api/v2/conversations/calls/"+id, tok, "")
	if rec.Code != 200 {
		t.Fatalf("GET calls: %d", rec.Code)
	}
	c := decodeMap(t, rec.Body.Bytes())
	ps := c["participants"].([]any)
	cust, acd := ps[0].(map[string]any), ps[1].(map[string]any)
	if cust["purpose"] != "customer" || cust["address"] != "+15551230000" || cust["state"] != "connected" ||
		acd["purpose"] != "acd" || acd["queueId"] != "q-1" || c["selfUri"] != "/api/v2/conversations/calls/"+id {
		t.Errorf("call conversation = %s", rec.Body)
	}
	for _, id := range []string{"nope", "00000000-0000-4000-8000-000000000000"} {
		for _, p := range []string{"/api/v2/conversations/", "/api/v2/conversations/calls/", "/api/v2/conversations/messages/"} {
			checkError(t, e.do("GET", p+id, tok, ""), 404, "not.found")
		}
	}
	b = checkError(t, e.do("POST", "/api/v2/conversations/calls", tok, `{"callerId":"+1"}`), 400, "bad.request")
	if diff := cmp.Diff([][2]string{{"phoneNumber", "field.required"}}, details(b)); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	for _, ok := range []string{`{"callUserId":"u-1"}`, `{"callQueueId":"q"}`} {
		if rec := e.do("POST", "/api/v2/conversations/calls", tok, ok); rec.Code != 200 {
			t.Errorf("%s: %d", ok, rec.Code)
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v2/nothing/here"},
		{"PATCH", "/api/v2/conversations/calls"}, // no PATCH /api/v2/conversations/{conversationId}
		{"GET", "/api/v2/bulk/exports"},
		{"POST", "/api/v2/auth/login"},
	} {
		rec := e.do(tc.method, tc.path, tok, "")
		checkError(t, rec, 404, "not.found")
		if rateHeaders(rec)[0] == "" {
			t.Errorf("%s %s: no rate-limit headers", tc.method, tc.path)
		}
	}
	checkError(t, e.do("GET", "/api/v2/nothing", "", ""), 401, "authentication.required")
	checkError(t, e.do("GET", "/nothing", "", ""), 404, "not.found")
}

func TestConversationStoreEvictsOldest(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Conversations.Max = 3
	e := newEnv(t, cfg)
	tok := e.demoToken()
	var ids []string
	for range 5 {
		e.clock.Advance(time.Second)
		rec := e.do("POST", "/api/v2/conversations/calls", tok, `{"phoneNumber":"+1555"}`)
		ids = append(ids, decodeMap(t, rec.Body.Bytes())["id"].(string))
	}
	for i, id := range ids {
		want := 200
		if i < 2 {
			want = 404
		}
		if rec := e.do("GET", "/api/v2/conversations/"+id, tok, ""); rec.Code != want {
			t.Errorf("conversation %d: %d, want %d", i, rec.Code, want)
		}
	}
	st := e.s.Stats()
	if st.Conversations.Stored != 3 || st.Conversations.Evicted != 2 || st.Conversations.Max != 3 {
		t.Errorf("stats = %+v", st.Conversations)
	}
}

func TestConversationsIsolatedByOrg(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	other := cfg.Orgs[0]
	other.ID, other.Name = "org-2", "other"
	other.Clients = []configClient{{ID: "c2", Secret: "s2", Permissions: []string{"*:*:*"}, TokenLifetime: cfgDuration(time.Hour)}}
	cfg.Orgs = append(cfg.Orgs, other)
	e := newEnv(t, cfg)
	rec := e.do("POST", "/api/v2/conversations/calls", e.demoToken(), `{"phoneNumber":"+1555"}`)
	id := decodeMap(t, rec.Body.Bytes())["id"].(string)
	checkError(t, e.do("GET", "/api/v2/conversations/"+id, e.token("c2", "s2"), ""), 404, "not.found")
}
