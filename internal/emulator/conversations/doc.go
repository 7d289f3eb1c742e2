// Package conversations holds the emulator's conversations resource: the
// Conversation record, the Store interface with a bounded in-memory
// implementation (oldest evicted first, listable by start time for later
// resources such as recording export and analytics), and the routes that
// create and read call and message conversations (reference §4). Each
// conversation gets one recording when it is created, and creation and new
// messages are published on the event bus (see Topics).
package conversations
