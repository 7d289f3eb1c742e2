package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/tidwall/gjson"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// Notification channels (reference §7): POST .../notifications/channels
// answers {connectUri, id}; PUT .../channels/{id}/subscriptions with
// [{"id": topic}] replaces the channel's topics; the WebSocket at
// connectUri then carries frames {topicName, eventBody}, with heartbeats
// on channel.metadata.

// frameBuffer is how many frames a channel holds while its VU is not
// waiting; past it the oldest are dropped, as the platform gives no
// delivery guarantee either.
const frameBuffer = 256

// maxFrameBytes bounds one notification frame.
const maxFrameBytes = 1 << 20

// notifyChannel is a VU's notification channel and its socket.
type notifyChannel struct {
	id, uri string
	conn    *websocket.Conn
	frames  chan []byte
	done    chan struct{} // closed when the socket's reader ends
	err     error         // why it ended; read after done is closed
	stop    func() bool   // unhooks the close-on-flight-end
}

func (c *notifyChannel) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

func (c *notifyChannel) close() {
	c.stop()
	c.conn.CloseNow()
	<-c.done
}

// channelResp is the platform's Channel.
type channelResp struct {
	ConnectURI string `json:"connectUri"`
	ID         string `json:"id"`
}

// notifyReq builds a request to the notification API for step st.
func (v *vu) notifyReq(method, url string, body []byte) *client.Request {
	return &client.Request{Method: method, URL: url, Header: v.sr.flow.notifyHdr, Body: body, Timeout: v.e.plan.Defaults.Timeout}
}

// openChannel creates a notification channel and connects its socket.
// The socket closes when the VU's in-flight context ends (the scenario's
// end or an abort), or when the channel is closed.
func (v *vu) openChannel(ctx context.Context, st *stepRun) (*notifyChannel, int, error) {
	fl := v.sr.flow
	out := v.do(ctx, st, v.notifyReq("POST", fl.channelsURL, nil), []int{200, 201}, time.Time{})
	if err := v.outcomeErr(out, []int{200, 201}, "create notification channel: "); err != nil {
		return nil, out.Status, err
	}
	var cr channelResp
	if err := json.Unmarshal(v.resp.Body, &cr); err != nil || cr.ID == "" || cr.ConnectURI == "" {
		return nil, out.Status, failf(metrics.Other, scenario.Snippet(v.resp.Body, 200), "create notification channel: the answer has no id and connectUri")
	}
	conn, _, err := websocket.Dial(ctx, cr.ConnectURI, &websocket.DialOptions{HTTPClient: fl.wsClient})
	if err != nil {
		class := metrics.Connect
		if ctx.Err() != nil {
			class = metrics.Timeout
		}
		return nil, out.Status, &stepError{msg: "connect to the notification channel: " + trimURL(err.Error(), cr.ConnectURI), class: class}
	}
	conn.SetReadLimit(maxFrameBytes)
	ch := &notifyChannel{id: cr.ID, uri: cr.ConnectURI, conn: conn, frames: make(chan []byte, frameBuffer), done: make(chan struct{})}
	ch.stop = context.AfterFunc(v.flight, func() { conn.CloseNow() })
	go ch.read()
	return ch, out.Status, nil
}

// trimURL keeps a channel's id out of a message, so that equal failures
// count together.
func trimURL(msg, uri string) string { return strings.ReplaceAll(msg, uri, "connectUri") }

// read moves frames from the socket to the frames buffer until the
// socket closes.
func (c *notifyChannel) read() {
	defer close(c.done)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		select {
		case c.frames <- data:
		default: // full: drop the oldest
			select {
			case <-c.frames:
			default:
			}
			select {
			case c.frames <- data:
			default:
			}
		}
	}
}

// subscribe replaces the channel's topics with topic.
func (v *vu) subscribe(ctx context.Context, st *stepRun, ch *notifyChannel, topic string) (int, error) {
	body, _ := json.Marshal([]map[string]string{{"id": topic}})
	url := v.sr.flow.channelsURL + "/" + ch.id + "/subscriptions"
	out := v.do(ctx, st, v.notifyReq("PUT", url, body), []int{200}, time.Time{})
	if err := v.outcomeErr(out, []int{200}, "subscribe: "); err != nil {
		return out.Status, err
	}
	for _, e := range gjson.GetBytes(v.resp.Body, "entities").Array() {
		if e.Get("id").String() == topic && strings.EqualFold(e.Get("state").String(), "Rejected") {
			return out.Status, failf(metrics.Status, scenario.Snippet(v.resp.Body, 200), "subscribe: topic rejected (%s)", e.Get("rejectionReason").String())
		}
	}
	return out.Status, nil
}

// waitEvent runs a wait_event step: a channel (the VU's, or a new one),
// a subscription to the topic, the trigger, then frames until one on the
// topic meets until. Its logical sample runs from the trigger's send
// (or, without one, from the subscription) to the event: the time to
// event. Channel and subscription requests, and the trigger, are its
// attempts.
func (v *vu) waitEvent(ctx context.Context, st *stepRun, due time.Time) error {
	w := st.step.WaitEvent
	start := time.Now()
	v.e.rec.Begin(v.shard, st.idx, start)
	v.firstSend = time.Time{}
	l := &metrics.Logical{Step: st.idx, Due: due, Start: start}
	err := v.awaitEvent(ctx, st, w, start, l)
	l.End = time.Now()
	if l.Start.IsZero() || l.Start.After(l.End) {
		l.Start = l.End
	}
	l.Status = v.last.status
	if err == nil {
		l.Class = metrics.OK
	}
	return v.finish(st, l, err)
}

func (v *vu) awaitEvent(ctx context.Context, st *stepRun, w *plan.WaitEvent, start time.Time, l *metrics.Logical) error {
	deadline := start.Add(w.Timeout)
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	timedOut := func(what string) error {
		if ctx.Err() != nil {
			return &stepError{msg: "interrupted: " + ctx.Err().Error(), class: metrics.Timeout}
		}
		return &stepError{msg: "no matching event within " + w.Timeout.String() + " (" + what + ")", class: metrics.Timeout}
	}

	topic := w.Topic
	if w.TopicTemplate != nil {
		var err error
		if topic, err = w.TopicTemplate.Render(&v.env); err != nil {
			return failf(metrics.Other, "", "topic: %v", err)
		}
	}
	ch := v.ch
	if w.Channel == plan.ChannelStep || ch == nil || !ch.alive() {
		if ch != nil && w.Channel == plan.ChannelVU {
			ch.close()
			v.ch = nil
		}
		var err error
		if ch, _, err = v.openChannel(wctx, st); err != nil {
			if wctx.Err() != nil {
				return timedOut("creating the channel")
			}
			return err
		}
		if w.Channel == plan.ChannelVU {
			v.ch = ch
		} else {
			defer ch.close()
		}
	}
	if _, err := v.subscribe(wctx, st, ch, topic); err != nil {
		if wctx.Err() != nil {
			return timedOut("subscribing")
		}
		return err
	}
	// Frames from before this subscription belong to earlier waits.
	for drained := false; !drained; {
		select {
		case <-ch.frames:
		default:
			drained = true
		}
	}
	l.Start = time.Now()
	if rr := st.req; rr != nil {
		req, err := v.prepare(rr)
		if err != nil {
			return err
		}
		v.firstSend = time.Time{}
		out := v.do(wctx, st, req, rr.expect, time.Time{})
		if !v.firstSend.IsZero() {
			l.Start = v.firstSend
		}
		if err := v.outcomeErr(out, rr.expect, "trigger: "); err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return timedOut("sending the trigger")
			}
			return err
		}
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return timedOut("")
		case <-timer.C:
			return timedOut("waiting for " + topic)
		case <-ch.done:
			if v.ch == ch {
				v.ch = nil
			}
			return &stepError{msg: fmt.Sprintf("the notification socket closed: %v", closeReason(ch.err)), class: metrics.Reset}
		case frame := <-ch.frames:
			if gjson.GetBytes(frame, "topicName").String() != topic {
				continue // heartbeats, and other topics
			}
			env := v.condEnv(frame, 0, w.Until, w.FailIf)
			if w.FailIf != nil {
				bad, err := w.FailIf.Eval(env)
				if err != nil {
					return failf(metrics.Other, scenario.Snippet(frame, 200), "fail_if: %v", err)
				}
				if bad {
					return failf(metrics.Other, scenario.Snippet(frame, 200), "fail_if %s held for an event", w.FailIf)
				}
			}
			if w.Until != nil {
				ok, err := w.Until.Eval(env)
				if err != nil {
					return failf(metrics.Other, scenario.Snippet(frame, 200), "until: %v", err)
				}
				if !ok {
					continue
				}
			}
			return v.extract(st, frame, nil)
		}
	}
}

func closeReason(err error) string {
	if err == nil {
		return "closed"
	}
	if s := websocket.CloseStatus(err); s != -1 {
		return fmt.Sprintf("status %d", s)
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	return err.Error()
}
