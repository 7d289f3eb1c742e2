package emulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func subscribe(t *testing.T, l *live, tok, channel, method, query string, topics ...string) (int, map[string]any) {
	t.Helper()
	var b strings.Builder
	b.WriteByte('[')
	for i, tp := range topics {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%q}`, tp)
	}
	b.WriteByte(']')
	code, body := l.do(method, "/api/v2/notifications/channels/"+channel+"/subscriptions"+query, tok, b.String())
	return code, decodeMap(t, body)
}

func TestJobStateEventsInOrder(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	chID, uri := l.channel(tok)
	if want := strings.Replace(l.base, "http://", "ws://", 1) + "/channels/streaming-0-" + chID; uri != want {
		t.Fatalf("connectUri = %s, want %s", uri, want)
	}
	ws := l.dial(uri)
	l.createCall(tok, "q1")
	id := l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)["id"].(string)
	if code, b := subscribe(t, l, tok, chID, "POST", "", "v2.recording.jobs."+id); code != 200 ||
		b["entities"].([]any)[0].(map[string]any)["state"] != "Permitted" {
		t.Fatalf("subscribe: %d %v", code, b)
	}
	l.clock.Advance(30 * time.Second)
	l.json("GET", "/api/v2/recording/jobs/"+id, tok, "", 200)
	code, _ := l.do("PUT", "/api/v2/recording/jobs/"+id, tok, `{"state":"PROCESSING"}`)
	if code != 202 {
		t.Fatalf("PUT: %d", code)
	}
	l.clock.Advance(time.Second)
	l.json("GET", "/api/v2/recording/jobs/"+id, tok, "", 200)

	for _, want := range []string{"READY", "PROCESSING", "FULFILLED"} {
		f := nextEvent(t, ws)
		if f.TopicName != "v2.recording.jobs."+id || f.EventBody["state"] != want || f.EventBody["id"] != id || f.Metadata.CorrelationID == "" {
			t.Fatalf("want a %s event, got %+v", want, f)
		}
	}
	want := `
# HELP floodgate_emulator_notification_sockets Notification WebSockets connected.
# TYPE floodgate_emulator_notification_sockets gauge
floodgate_emulator_notification_sockets 1
`
	if err := testutil.GatherAndCompare(l.s.metrics.reg, strings.NewReader(want), "floodgate_emulator_notification_sockets"); err != nil {
		t.Error(err)
	}
	if st := l.s.notif.Stats(); st.Delivered != 3 {
		t.Errorf("notification stats = %+v", st)
	}
}

func TestConversationEvents(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	chID, uri := l.channel(tok)
	ws := l.dial(uri)
	if code, b := subscribe(t, l, tok, chID, "PUT", "", "v2.routing.queues.q7.conversations", "v2.routing.queues.q7.conversations.messages"); code != 200 {
		t.Fatalf("subscribe: %d %v", code, b)
	}
	l.createCall(tok, "other-queue") // not subscribed
	id := l.createMessage(tok, "q7", "+15550177")
	for _, topic := range []string{"v2.routing.queues.q7.conversations", "v2.routing.queues.q7.conversations.messages"} {
		f := nextEvent(t, ws)
		if f.TopicName != topic || f.EventBody["id"] != id {
			t.Errorf("want %s for %s, got %+v", topic, id, f)
		}
	}
}

// TestOpenMessagingQueueEvents: with open_messaging_queue_id set, an
// open-messaging conversation is routed to that queue and publishes its
// conversation topics; each further message of the sender publishes again.
func TestOpenMessagingQueueEvents(t *testing.T) {
	t.Parallel()
	cfg := liveConfig(t)
	cfg.Conversations.OpenMessagingQueue = "q-open"
	l := startLive(t, cfg)
	tok := l.demoToken()
	chID, uri := l.channel(tok)
	ws := l.dial(uri)
	if code, b := subscribe(t, l, tok, chID, "PUT", "", "v2.routing.queues.q-open.conversations", "v2.routing.queues.q-open.conversations.messages"); code != 200 {
		t.Fatalf("subscribe: %d %v", code, b)
	}
	msg := `{"channel":{"from":{"id":"+15550100","idType":"Phone"}},"text":"hello"}`
	var id string
	for round := range 2 {
		body := l.json("POST", openPath+"?prefetchConversationId=true", tok, msg, 200)
		if round == 0 {
			id, _ = body["conversationId"].(string)
		}
		for _, topic := range []string{"v2.routing.queues.q-open.conversations", "v2.routing.queues.q-open.conversations.messages"} {
			f := nextEvent(t, ws)
			if f.TopicName != topic || f.EventBody["id"] != id {
				t.Fatalf("round %d: want %s for %s, got %+v", round, topic, id, f)
			}
			parts, _ := f.EventBody["participants"].([]any)
			queued := false
			for _, p := range parts {
				queued = queued || p.(map[string]any)["queueId"] == "q-open"
			}
			if !queued {
				t.Errorf("event has no participant on the queue: %v", f.EventBody)
			}
		}
	}
}

func TestHeartbeatAndPing(t *testing.T) {
	t.Parallel()
	cfg := liveConfig(t)
	cfg.TimeScale = 0.001 // 30 s heartbeats every 30 ms
	l := startLive(t, cfg)
	tok := l.demoToken()
	_, uri := l.channel(tok)
	ws := l.dialRaw(uri)
	f, err := readFrame(t, ws)
	if err != nil || f.TopicName != "channel.metadata" || f.EventBody["message"] != "WebSocket Heartbeat" {
		t.Fatalf("first frame %+v, %v; want a heartbeat", f, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"message":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := readFrame(t, ws)
		if err != nil {
			t.Fatal(err)
		}
		if f.EventBody["message"] == "pong" {
			if f.TopicName != "channel.metadata" {
				t.Errorf("pong on %s", f.TopicName)
			}
			break
		}
	}
}

func closeStatus(t *testing.T, ws *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	for {
		_, err := readFrame(t, ws)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("read ended with %v, want a close frame", err)
		}
		return ce.Code, ce.Reason
	}
}

func TestSecondSocketDropsFirst(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	chID, uri := l.channel(tok)
	first := l.dial(uri)
	second := l.dialRaw(uri) // attached once first is closed
	if code, reason := closeStatus(t, first); code != websocket.StatusNormalClosure || !strings.Contains(reason, "replaced") {
		t.Errorf("first socket closed with %v %q", code, reason)
	}
	subscribe(t, l, tok, chID, "POST", "", "v2.routing.queues.q1.conversations")
	id := l.createCall(tok, "q1")
	if f := nextEvent(t, second); f.EventBody["id"] != id {
		t.Errorf("second socket got %+v", f)
	}
}

func TestChannelEviction(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	head := func(id string) int {
		code, _ := l.do("HEAD", "/api/v2/notifications/channels/"+id, tok, "")
		return code
	}
	var ids, uris []string
	for range 20 {
		id, uri := l.channel(tok)
		ids, uris = append(ids, id), append(uris, uri)
		l.clock.Advance(time.Second)
	}
	first := l.dial(uris[0]) // the oldest, but connected
	l.channel(tok)           // the 21st
	if head(ids[0]) != 200 || head(ids[1]) != 404 || head(ids[2]) != 200 {
		t.Errorf("after the 21st: HEAD oldest %d, 2nd %d, 3rd %d; want the least recently used unconnected (2nd) evicted",
			head(ids[0]), head(ids[1]), head(ids[2]))
	}
	list := l.json("GET", "/api/v2/notifications/channels", tok, "", 200)
	if n := len(list["entities"].([]any)); n != 20 {
		t.Errorf("%d channels listed, want 20", n)
	}

	// With every channel connected, the least recently used connected one
	// goes, and its socket is closed.
	cfg := liveConfig(t)
	cfg.Notifications.ChannelsPerClient = 2
	l2 := startLive(t, cfg)
	tok2 := l2.demoToken()
	_, uriA := l2.channel(tok2)
	l2.clock.Advance(time.Second)
	_, uriB := l2.channel(tok2)
	wsA := l2.dial(uriA)
	l2.clock.Advance(time.Second)
	l2.dial(uriB)
	l2.channel(tok2)
	if code, reason := closeStatus(t, wsA); code != websocket.StatusNormalClosure || !strings.Contains(reason, "evicted") {
		t.Errorf("evicted socket closed with %v %q", code, reason)
	}
	_ = first
	want := `
# HELP floodgate_emulator_notification_channel_evictions_total Notification channels evicted by the per-client channel limit.
# TYPE floodgate_emulator_notification_channel_evictions_total counter
floodgate_emulator_notification_channel_evictions_total 1
# HELP floodgate_emulator_notification_channels Notification channels alive.
# TYPE floodgate_emulator_notification_channels gauge
floodgate_emulator_notification_channels 2
`
	if err := testutil.GatherAndCompare(l2.s.metrics.reg, strings.NewReader(want),
		"floodgate_emulator_notification_channel_evictions_total", "floodgate_emulator_notification_channels"); err != nil {
		t.Error(err)
	}
}

func TestTopicLimitAndPermissions(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	chID, _ := l.channel(tok)
	topics := make([]string, 1000)
	for i := range topics {
		topics[i] = fmt.Sprintf("v2.recording.jobs.job%d", i)
	}
	if code, b := subscribe(t, l, tok, chID, "PUT", "", topics...); code != 200 || len(b["entities"].([]any)) != 1000 {
		t.Fatalf("1000 topics: %d", code)
	}
	code, b := subscribe(t, l, tok, chID, "POST", "", "v2.recording.jobs.one-more")
	if code != 400 || b["code"] != "bad.request" || !strings.Contains(b["message"].(string), "at most 1000 topics") {
		t.Errorf("1001st topic: %d %v", code, b)
	}
	if code, _ := subscribe(t, l, tok, chID, "PUT", "", append(topics, "v2.recording.jobs.x")...); code != 400 {
		t.Errorf("PUT of 1001 topics: %d", code)
	}
	if n := len(l.json("GET", "/api/v2/notifications/channels/"+chID+"/subscriptions", tok, "", 200)["entities"].([]any)); n != 1000 {
		t.Errorf("%d subscriptions kept, want 1000", n)
	}
	if code, _ := l.do("DELETE", "/api/v2/notifications/channels/"+chID+"/subscriptions", tok, ""); code != 204 {
		t.Errorf("DELETE subscriptions: %d", code)
	}

	// An unpermitted topic fails the whole request, unless ignoreErrors.
	viewer := l.token("viewer", "viewer-secret")
	vch, _ := l.channel(viewer)
	code, b = subscribe(t, l, viewer, vch, "POST", "", "v2.users.u1.conversations", "v2.recording.jobs.j1")
	if code != 403 || b["code"] != "missing.permissions" || !strings.Contains(b["message"].(string), "[recording:job:view]") {
		t.Errorf("unpermitted topic: %d %v", code, b)
	}
	if code, b := subscribe(t, l, viewer, vch, "POST", "", "v2.nonsense"); code != 400 {
		t.Errorf("unknown topic: %d %v", code, b)
	}
	code, b = subscribe(t, l, viewer, vch, "POST", "?ignoreErrors=true", "v2.users.u1.conversations", "v2.recording.jobs.j1", "v2.nonsense")
	if code != 200 {
		t.Fatalf("ignoreErrors: %d %v", code, b)
	}
	got := map[string]string{}
	for _, e := range b["entities"].([]any) {
		m := e.(map[string]any)
		got[m["id"].(string)] = m["state"].(string)
	}
	if got["v2.users.u1.conversations"] != "Permitted" || got["v2.recording.jobs.j1"] != "Rejected" || got["v2.nonsense"] != "Rejected" {
		t.Errorf("ignoreErrors entities = %v", b["entities"])
	}
	// Channels belong to their client.
	if code, _ := l.do("HEAD", "/api/v2/notifications/channels/"+vch, tok, ""); code != 404 {
		t.Errorf("another client's channel: %d", code)
	}
}

func TestChannelLifetime(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	a, _ := l.channel(tok)
	b, _ := l.channel(tok)
	l.clock.Advance(23 * time.Hour)
	subscribe(t, l, tok, b, "POST", "", "v2.users.u1.conversations") // renews b
	l.clock.Advance(2 * time.Hour)
	tok = l.demoToken()
	if code, _ := l.do("HEAD", "/api/v2/notifications/channels/"+a, tok, ""); code != 404 {
		t.Errorf("channel after 25 h: %d, want 404", code)
	}
	if code, _ := l.do("HEAD", "/api/v2/notifications/channels/"+b, tok, ""); code != 200 {
		t.Errorf("channel renewed 2 h ago: %d, want 200", code)
	}
}

func TestSocketClosingOnShutdown(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	_, uri := l.channel(l.demoToken())
	ws := l.dial(uri)
	go l.stop()
	f := nextEvent(t, ws)
	if f.TopicName != "v2.system.socket_closing" {
		t.Errorf("frame before shutdown = %+v", f)
	}
	if code, _ := closeStatus(t, ws); code != websocket.StatusGoingAway {
		t.Errorf("close status %v, want going away", code)
	}
}

// TestOversizedFrameHeaderClosesSocket: a client frame whose header claims
// more than 64 KiB closes the socket (1009) without the server waiting
// for the payload, which this client never sends.
func TestOversizedFrameHeaderClosesSocket(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	chID, _ := l.channel(tok)
	conn, err := net.Dial("tcp", strings.TrimPrefix(l.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A bound on the whole exchange, not a synchronisation.
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /channels/streaming-0-%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", chID)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", res, err)
	}
	// FIN+text, masked, 64-bit length 100,000, masking key, 3 bytes.
	hdr := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0x86, 0xa0, 1, 2, 3, 4, 'a', 'b', 'c'}
	if _, err := conn.Write(hdr); err != nil {
		t.Fatal(err)
	}
	// Frames until the close frame: its code is 1009 (message too big).
	for {
		b0, err := br.ReadByte()
		if err != nil {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		n, err := br.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		size := int(n & 0x7f)
		if size == 126 {
			var ext [2]byte
			_, _ = io.ReadFull(br, ext[:])
			size = int(ext[0])<<8 | int(ext[1])
		}
		payload := make([]byte, size)
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatal(err)
		}
		if b0&0x0f != 0x8 {
			continue // a text frame (heartbeat) sent before the close
		}
		if code := int(payload[0])<<8 | int(payload[1]); code != 1009 {
			t.Fatalf("close code %d (%s), want 1009", code, payload[2:])
		}
		break
	}
	// Then the server hangs up (it does not wait for the payload).
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after the close frame: %v, want EOF", err)
	}
}
