// Package conversations holds the emulator's conversations resource: the
// Conversation record, the Store interface with a bounded in-memory
// implementation (oldest evicted first, listable by start time for later
// resources such as recording export and analytics), and the routes that
// create and read call and message conversations (reference §4).
package conversations
