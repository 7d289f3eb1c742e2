// Package analytics holds the emulator's conversation details resource
// (reference §6): the query model shared with recording jobs (interval,
// conversation and segment filters), POST
// /api/v2/analytics/conversations/details/query over the stored
// conversations with an ingestion lag, and async details jobs with their
// timing model, cursor-paged results and data availability date.
package analytics
