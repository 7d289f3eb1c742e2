// Package recordings holds the emulator's recording bulk jobs (reference
// §5): POST/GET /api/v2/recording/jobs, GET/PUT/DELETE
// /api/v2/recording/jobs/{jobId} and .../failedrecordings, the jobs'
// timing model (PENDING → READY → PROCESSING → FULFILLED or FAILED, or
// CANCELLED), the per-org cap on active jobs, and the Sink that EXPORT
// jobs write each recording and its _metadata.json to, laid out like the
// platform's S3 export. Dir is the local-directory Sink.
package recordings
