package platform

import (
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Error codes of the platform's ErrorBody (reference §1–§3).
const (
	CodeBadRequest             = "bad.request"
	CodeInvalidValue           = "invalid.value"
	CodeAuthenticationRequired = "authentication.required"
	CodeBadCredentials         = "bad.credentials"
	CodeCredentialsExpired     = "credentials.expired"
	CodeNotAuthorized          = "not.authorized"
	CodeMissingPermissions     = "missing.permissions"
	CodeMissingAnyPermissions  = "missing.any.permissions"
	CodeNotFound               = "not.found"
	CodeEntityTooLarge         = "request.entity.too.large"
	CodeUnsupportedMediaType   = "unsupported.media.type"
	CodeTooManyRequestsRetry   = "too.many.requests.retry.after"
	CodeTooManyRequests        = "too.many.requests"
	CodeInternalServerError    = "internal.server.error"
	CodeServiceUnavailable     = "service.unavailable"
	CodeRequestTimeout         = "request.timeout"
	// CodeHeaderTooLarge is the emulator's code for 431 [I]: the platform
	// documents none.
	CodeHeaderTooLarge = "request.header.fields.too.large"
)

// Messages the platform sends with the codes above.
const (
	MsgBadRequest             = "The request could not be understood by the server due to malformed syntax."
	MsgAuthenticationRequired = "No authentication bearer token specified in authorization header."
	MsgBadCredentials         = "Invalid login credentials."
	MsgCredentialsExpired     = "The supplied credentials are expired and cannot be used."
	MsgNotAuthorized          = "You are not authorized to perform the requested action."
	MsgMissingPermissions     = "Unable to perform the requested action. You are missing the following permission(s): "
	MsgMissingAnyPermissions  = "Unable to perform the requested action. You must have at least one of the following permission(s): "
	MsgNotFound               = "The requested resource was not found."
	MsgEntityTooLarge         = "The request is over the size limit. Maximum bytes: "
	MsgUnsupportedMediaType   = "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect Content-Type value in the header."
	MsgTooManyRequests        = "Rate limit exceeded the maximum. Retry the request in [%s] seconds"
	MsgInternalServerError    = "The server encountered an unexpected condition which prevented it from fulfilling the request."
	MsgServiceUnavailable     = "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance)."
	MsgRequestTimeout         = "The request timed out."
	MsgHeaderTooLarge         = "The request's headers are over the size limit. Maximum bytes: "
)

var defaultMessages = map[string]string{
	CodeBadRequest:             MsgBadRequest,
	CodeInvalidValue:           MsgBadRequest,
	CodeAuthenticationRequired: MsgAuthenticationRequired,
	CodeBadCredentials:         MsgBadCredentials,
	CodeCredentialsExpired:     MsgCredentialsExpired,
	CodeNotAuthorized:          MsgNotAuthorized,
	CodeNotFound:               MsgNotFound,
	CodeUnsupportedMediaType:   MsgUnsupportedMediaType,
	CodeTooManyRequests:        "Too many requests.",
	CodeInternalServerError:    MsgInternalServerError,
	CodeServiceUnavailable:     MsgServiceUnavailable,
	CodeRequestTimeout:         MsgRequestTimeout,
	"client.timeout":           "The client did not produce a request within the time that the server was prepared to wait.",
	"not.implemented":          "Feature toggle is not enabled",
}

var defaultCodes = map[int]string{
	400: CodeBadRequest, 401: CodeBadCredentials, 403: CodeNotAuthorized, 404: CodeNotFound,
	408: "client.timeout", 413: CodeEntityTooLarge, 415: CodeUnsupportedMediaType,
	429: CodeTooManyRequests, 500: CodeInternalServerError, 501: "not.implemented",
	503: CodeServiceUnavailable, 504: CodeRequestTimeout,
}

// DefaultMessage returns the platform's message for code, or a generic
// message derived from status when the catalogue has none.
func DefaultMessage(code string, status int) string {
	if m, ok := defaultMessages[code]; ok {
		return m
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error " + strconv.Itoa(status)
}

// DefaultCode returns the platform's usual code for status ("" if none).
func DefaultCode(status int) string { return defaultCodes[status] }

// Detail is one entry of ErrorBody.details: which field failed and how.
type Detail struct {
	FieldName string `json:"fieldName,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
}

// Param is one entry of ErrorBody.messageParams; a slice keeps the order
// stable on the wire.
type Param struct{ Key, Value string }

// ErrorBody is the platform's standard error body (reference §3). The zero
// value of an optional field is omitted; details and errors are always
// present, as empty arrays when unset.
type ErrorBody struct {
	Message           string
	Code              string
	Status            int
	MessageWithParams string
	MessageParams     []Param
	ContextID         string
	Details           []Detail
}

// AppendJSON appends e as JSON to b. Field order is fixed: message, code,
// status, messageWithParams, messageParams, contextId, details, errors.
func (e *ErrorBody) AppendJSON(b []byte) []byte {
	b = append(b, `{"message":`...)
	b = AppendString(b, e.Message)
	b = append(b, `,"code":`...)
	b = AppendString(b, e.Code)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	if e.MessageWithParams != "" {
		b = append(b, `,"messageWithParams":`...)
		b = AppendString(b, e.MessageWithParams)
	}
	if len(e.MessageParams) > 0 {
		b = append(b, `,"messageParams":{`...)
		for i, p := range e.MessageParams {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, p.Key)
			b = append(b, ':')
			b = AppendString(b, p.Value)
		}
		b = append(b, '}')
	}
	b = append(b, `,"contextId":`...)
	b = AppendString(b, e.ContextID)
	b = append(b, `,"details":[`...)
	for i, d := range e.Details {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		sep := false
		if d.FieldName != "" {
			b = append(b, `"fieldName":`...)
			b = AppendString(b, d.FieldName)
			sep = true
		}
		if d.ErrorCode != "" {
			if sep {
				b = append(b, ',')
			}
			b = append(b, `"errorCode":`...)
			b = AppendString(b, d.ErrorCode)
		}
		b = append(b, '}')
	}
	b = append(b, `],"errors":[]}`...)
	return b
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string (RFC 8259 escaping; <, > and &
// are escaped as encoding/json does, invalid UTF-8 becomes U+FFFD).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Header names and values set on responses. Keys are in canonical form so
// they can be assigned to an http.Header map directly.
const (
	HeaderContentType = "Content-Type"
	// HeaderRetryAfterMs is floodgate's own header beside Retry-After: the
	// exact wait in milliseconds, rounded up.
	HeaderRetryAfterMs = "X-Floodgate-Retry-After-Ms"
	HeaderRetryAfter   = "Retry-After"
)

// JSONContentType is the Content-Type of every JSON answer. Handlers must
// not modify it in place.
var JSONContentType = []string{"application/json"}

// WriteErrorBody writes e with status e.Status.
func WriteErrorBody(w http.ResponseWriter, e *ErrorBody) {
	bp := bufPool.Get().(*[]byte)
	b := e.AppendJSON((*bp)[:0])
	w.Header()[HeaderContentType] = JSONContentType
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
	*bp = b
	bufPool.Put(bp)
}

// WriteError writes an ErrorBody built from its parts. An empty message
// takes the catalogue's message for code.
func WriteError(w http.ResponseWriter, contextID string, status int, code, message string) {
	if message == "" {
		message = DefaultMessage(code, status)
	}
	WriteErrorBody(w, &ErrorBody{Message: message, Code: code, Status: status, ContextID: contextID})
}

// NotFound writes the platform's 404 not.found.
func NotFound(w http.ResponseWriter, contextID string) {
	WriteError(w, contextID, http.StatusNotFound, CodeNotFound, MsgNotFound)
}

// MissingPermissions writes the platform's 403 for permissions the caller
// lacks: missing.permissions when every one of perms is needed,
// missing.any.permissions when any one of them would do. The message lists
// them as "[a, b]"; messageParams carries them as "a, b".
func MissingPermissions(w http.ResponseWriter, contextID string, perms []string, any bool) {
	code, msg := CodeMissingPermissions, MsgMissingPermissions
	if any {
		code, msg = CodeMissingAnyPermissions, MsgMissingAnyPermissions
	}
	list := ""
	for i, p := range perms {
		if i > 0 {
			list += ", "
		}
		list += p
	}
	WriteErrorBody(w, &ErrorBody{Status: http.StatusForbidden, Code: code,
		Message:           msg + "[" + list + "]",
		MessageWithParams: msg + "[{permissions}]",
		MessageParams:     []Param{{Key: "permissions", Value: list}},
		ContextID:         contextID})
}
