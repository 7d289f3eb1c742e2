package notifications

import "strings"

// A topicRule matches topics prefix + {id} + suffix, where id is one
// non-empty segment, and names the permission a subscriber needs.
type topicRule struct {
	prefix, suffix, perm string
}

// Permissions of the topics. The platform lists the topics (SDKs'
// NotificationTopics); the permissions checked here are the emulator's
// choice.
const (
	PermConversationView = "conversation:communication:view"
	PermRecordingJobView = "recording:job:view"
)

// rules is the emulator's topic catalogue: the conversation topics it
// publishes (names from the SDKs' topic list) and its own recording-job
// topic.
var rules = []topicRule{
	{"v2.users.", ".conversations", PermConversationView},
	{"v2.users.", ".conversations.calls", PermConversationView},
	{"v2.users.", ".conversations.messages", PermConversationView},
	{"v2.routing.queues.", ".conversations", PermConversationView},
	{"v2.routing.queues.", ".conversations.calls", PermConversationView},
	{"v2.routing.queues.", ".conversations.messages", PermConversationView},
	{"v2.recording.jobs.", "", PermRecordingJobView},
}

// topicPermission returns the permission topic needs, or ok false for a
// topic the emulator does not know.
func topicPermission(topic string) (perm string, ok bool) {
	for _, r := range rules {
		if !strings.HasPrefix(topic, r.prefix) || !strings.HasSuffix(topic, r.suffix) || len(topic) <= len(r.prefix)+len(r.suffix) {
			continue
		}
		id := topic[len(r.prefix) : len(topic)-len(r.suffix)]
		if id != "" && !strings.Contains(id, ".") {
			return r.perm, true
		}
	}
	return "", false
}
