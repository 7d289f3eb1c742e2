package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WriteJSON marshals v and writes it with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Programmer error: response types always marshal.
		WriteError(w, "", http.StatusInternalServerError, CodeInternalServerError, "")
		return
	}
	WriteRawJSON(w, status, b)
}

// WriteRawJSON writes an already encoded JSON body with status.
func WriteRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h[HeaderContentType] = JSONContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Error detail codes used in ErrorBody.details[].errorCode. The platform
// does not document its own; these are the emulator's.
const (
	DetailRequired = "field.required"
	DetailInvalid  = "invalid.value"
	DetailTooLong  = "field.too.long"
	DetailType     = "invalid.type"
)

// DecodeJSON reads r's body as JSON into v. On failure it writes the
// platform's answer and returns false: 415 unsupported.media.type when the
// Content-Type is not application/json, 413 request.entity.too.large when
// the body exceeds the server's limit (the server wraps bodies in
// http.MaxBytesReader), 400 bad.request for malformed JSON or an empty body,
// 400 invalid.value with details[] for a value of the wrong JSON type,
// 400 bad.request for a body that is not valid UTF-8 (never silently
// repaired).
func DecodeJSON(w http.ResponseWriter, r *http.Request, c *Call, v any) bool {
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		WriteError(w, c.ContextID, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, MsgUnsupportedMediaType)
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			WriteError(w, c.ContextID, http.StatusRequestEntityTooLarge, CodeEntityTooLarge,
				MsgEntityTooLarge+strconv.FormatInt(mb.Limit, 10))
			return false
		}
		WriteError(w, c.ContextID, http.StatusBadRequest, CodeBadRequest, MsgBadRequest)
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		WriteErrorBody(w, &ErrorBody{Message: "The request body is required.", Code: CodeBadRequest,
			Status: http.StatusBadRequest, ContextID: c.ContextID, Details: []Detail{{FieldName: "body", ErrorCode: DetailRequired}}})
		return false
	}
	// encoding/json would replace invalid UTF-8 with U+FFFD: the handler
	// would store a value the client never sent.
	if !utf8.Valid(body) {
		WriteErrorBody(w, &ErrorBody{Message: "The request body is not valid UTF-8.", Code: CodeBadRequest,
			Status: http.StatusBadRequest, ContextID: c.ContextID, Details: []Detail{{FieldName: "body", ErrorCode: DetailInvalid}}})
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "body"
			}
			WriteErrorBody(w, &ErrorBody{Message: "Invalid value for " + field + ": expected " + te.Type.String() + ", got JSON " + te.Value + ".",
				Code: CodeInvalidValue, Status: http.StatusBadRequest, ContextID: c.ContextID,
				Details: []Detail{{FieldName: field, ErrorCode: DetailType}}})
			return false
		}
		WriteError(w, c.ContextID, http.StatusBadRequest, CodeBadRequest, MsgBadRequest)
		return false
	}
	return true
}

func isJSON(ct string) bool {
	if ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// Problems collects validation failures of a request body; the first one
// gives the ErrorBody's code and message, all of them its details[].
type Problems struct {
	code, message string
	details       []Detail
}

// Required records a missing required field.
func (p *Problems) Required(field string) {
	p.add(CodeBadRequest, field+" is required.", field, DetailRequired)
}

// Invalid records a field whose value is not allowed; msg explains why.
func (p *Problems) Invalid(field, msg string) {
	p.add(CodeInvalidValue, msg, field, DetailInvalid)
}

// TooLong records a field longer than max characters.
func (p *Problems) TooLong(field string, max int) {
	p.add(CodeInvalidValue, field+" exceeds the maximum length of "+strconv.Itoa(max)+" characters.", field, DetailTooLong)
}

func (p *Problems) add(code, msg, field, detail string) {
	if p.code == "" {
		p.code, p.message = code, msg
	}
	p.details = append(p.details, Detail{FieldName: field, ErrorCode: detail})
}

// Empty reports whether no problem was recorded.
func (p *Problems) Empty() bool { return p.code == "" }

// Write answers 400 with the recorded problems.
func (p *Problems) Write(w http.ResponseWriter, c *Call) {
	WriteErrorBody(w, &ErrorBody{Message: p.message, Code: p.code, Status: http.StatusBadRequest,
		ContextID: c.ContextID, Details: p.details})
}
