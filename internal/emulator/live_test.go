package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// live is a server under test on 127.0.0.1:0, driven over real HTTP and
// WebSocket, with a fake clock.
type live struct {
	t     *testing.T
	s     *Server
	clock *fakeClock
	base  string
	stop  func() // shuts the server down and waits for Serve to return
}

func startLive(t *testing.T, cfg Config, opts ...Option) *live {
	t.Helper()
	clock := newFakeClock()
	s, err := New(cfg, append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &live{t: t, s: s, clock: clock, base: "http://" + ln.Addr().String(), stop: stop}
}

// liveConfig is testConfig with exports in a test directory.
func liveConfig(t *testing.T) Config {
	cfg := testConfig()
	cfg.ExportDir = t.TempDir()
	return cfg
}

// do sends a request with an optional JSON body and returns the status
// and body.
func (l *live) do(method, path, token, body string) (int, []byte) {
	l.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, l.base+path, rd)
	if err != nil {
		l.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		l.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// json sends a request, checks the status and decodes the JSON answer.
func (l *live) json(method, path, token, body string, want int) map[string]any {
	l.t.Helper()
	code, b := l.do(method, path, token, body)
	if code != want {
		l.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, code, want, b)
	}
	if len(b) == 0 {
		return nil
	}
	return decodeMap(l.t, b)
}

func (l *live) token(id, secret string) string {
	l.t.Helper()
	req, _ := http.NewRequest("POST", l.base+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		l.t.Fatalf("token for %s: %d %v", id, resp.StatusCode, err)
	}
	return tok.AccessToken
}

func (l *live) demoToken() string { return l.token(DemoClientID, DemoClientSecret) }

// channel creates a notification channel and returns its id and connectUri.
func (l *live) channel(tok string) (id, uri string) {
	l.t.Helper()
	b := l.json("POST", "/api/v2/notifications/channels", tok, "", 200)
	return b["id"].(string), b["connectUri"].(string)
}

// dialRaw connects a WebSocket to uri.
func (l *live) dialRaw(uri string) *websocket.Conn {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, uri, nil)
	if err != nil {
		l.t.Fatalf("dial %s: %v", uri, err)
	}
	l.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// dial connects a WebSocket to uri and returns once the server has
// attached it to its channel: the handshake completes before the server
// registers the socket, so the helper waits for the answer to a ping,
// which the server sends only from an attached socket.
func (l *live) dial(uri string) *websocket.Conn {
	l.t.Helper()
	c := l.dialRaw(uri)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"message":"ping"}`)); err != nil {
		l.t.Fatal(err)
	}
	for {
		f, err := readFrame(l.t, c)
		if err != nil {
			l.t.Fatalf("waiting for pong: %v", err)
		}
		if f.TopicName == "channel.metadata" && f.EventBody["message"] == "pong" {
			return c
		}
	}
}

// wsFrame is a frame the emulator sends.
type wsFrame struct {
	TopicName string         `json:"topicName"`
	Version   string         `json:"version"`
	EventBody map[string]any `json:"eventBody"`
	Metadata  struct {
		CorrelationID string `json:"CorrelationId"`
	} `json:"metadata"`
}

// readFrame reads one frame, waiting at most 5 s (a failure, not a
// synchronisation: frames normally arrive at once).
func readFrame(t *testing.T, c *websocket.Conn) (wsFrame, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		return wsFrame{}, err
	}
	var f wsFrame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %s: %v", data, err)
	}
	return f, nil
}

// nextEvent returns the next frame that is not a heartbeat.
func nextEvent(t *testing.T, c *websocket.Conn) wsFrame {
	t.Helper()
	for {
		f, err := readFrame(t, c)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if f.TopicName == "channel.metadata" && f.EventBody["message"] == "WebSocket Heartbeat" {
			continue
		}
		return f
	}
}

// createCall creates a call on queue q and returns its id.
func (l *live) createCall(tok, q string) string {
	l.t.Helper()
	b := l.json("POST", "/api/v2/conversations/calls", tok, `{"phoneNumber":"+15550100","callerId":"+15550199","callQueueId":"`+q+`"}`, 200)
	return b["id"].(string)
}

// createMessage creates an SMS conversation to addr on queue q.
func (l *live) createMessage(tok, q, addr string) string {
	l.t.Helper()
	b := l.json("POST", "/api/v2/conversations/messages", tok, `{"queueId":"`+q+`","toAddress":"`+addr+`","toAddressMessengerType":"sms"}`, 200)
	return b["id"].(string)
}

// TestHeaderTooLargeIsPlatformJSON: headers over MaxHeaderBytes get 431
// with the platform's ErrorBody over a real connection (net/http's own
// cut-off, plain text, is far above it); headers just under it pass.
func TestHeaderTooLargeIsPlatformJSON(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	for _, tc := range []struct {
		size   int
		status int
	}{
		{MaxHeaderBytes - 2048, http.StatusOK},
		{MaxHeaderBytes + 1, http.StatusRequestHeaderFieldsTooLarge},
		{4 * MaxHeaderBytes, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, _ := http.NewRequest(http.MethodGet, l.base+"/api/v2/tokens/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Padding", strings.Repeat("p", tc.size))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("%d bytes: status %d, want %d", tc.size, res.StatusCode, tc.status)
			continue
		}
		if tc.status != http.StatusOK {
			b := decodeMap(t, body)
			if res.Header.Get("Content-Type") != "application/json" || b["code"] != "request.header.fields.too.large" ||
				b["status"] != 431.0 || b["contextId"] != res.Header.Get("Inin-Correlation-Id") {
				t.Errorf("%d bytes: %s %s", tc.size, res.Header.Get("Content-Type"), body)
			}
		}
	}
}
