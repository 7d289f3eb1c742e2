package notifications

import "testing"

func TestTopicPermission(t *testing.T) {
	t.Parallel()
	for topic, want := range map[string]string{
		"v2.users.u1.conversations":                   PermConversationView,
		"v2.users.u1.conversations.calls":             PermConversationView,
		"v2.routing.queues.q1.conversations.messages": PermConversationView,
		"v2.recording.jobs.8d6f":                      PermRecordingJobView,
		"v2.users..conversations":                     "",
		"v2.users.a.b.conversations":                  "",
		"v2.recording.jobs.":                          "",
		"v2.users.u1.presence":                        "",
		"channel.metadata":                            "",
	} {
		got, ok := topicPermission(topic)
		if got != want || ok != (want != "") {
			t.Errorf("topicPermission(%q) = %q, %v; want %q", topic, got, ok, want)
		}
	}
}

func TestChannelID(t *testing.T) {
	t.Parallel()
	if id, ok := channelID("streaming-0-8d6f-aa"); !ok || id != "8d6f-aa" {
		t.Errorf("channelID = %q %v", id, ok)
	}
	for _, bad := range []string{"x-0-1", "streaming-0-", "streaming"} {
		if _, ok := channelID(bad); ok {
			t.Errorf("channelID(%q) accepted", bad)
		}
	}
}
