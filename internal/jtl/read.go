package jtl

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Errors Read returns, to branch on with errors.Is.
var (
	// ErrFormat: the input is neither a CSV JTL with a header line nor
	// an XML JTL.
	ErrFormat = errors.New("jtl: not a JMeter results file")
	// ErrEmpty: the file holds no samples.
	ErrEmpty = errors.New("jtl: no samples")
)

// maxSamples bounds what one file may hold (about 100 bytes each in memory).
const maxSamples = 20_000_000

// Sample is one JMeter sample: a row of a CSV JTL, or an <httpSample> or
// <sample> of an XML one.
type Sample struct {
	// Start is timeStamp, which JMeter writes at the sample's start
	// (sampleresult.timestamp.start=true, its default since 2.x).
	Start   time.Time
	Elapsed time.Duration
	Label   string
	// Code is responseCode as written; Status is it as an HTTP status,
	// 0 when it is not one ("Non HTTP response code: ...").
	Code    string
	Status  int
	Message string
	Thread  string
	Success bool
	Failure string // failureMessage
	// Bytes received and sent.
	Bytes, SentBytes int64
	// GrpThreads and AllThreads are the active threads when the sample
	// ended (-1 when the file does not say).
	GrpThreads, AllThreads int
	URL                    string
	// Latency is time to first byte, Connect time to connect.
	Latency, Connect time.Duration
	// Headers are the response headers (XML files saved with them).
	Headers string
}

// File is what Read found in a results file.
type File struct {
	// Format is "csv" or "xml".
	Format  string
	Samples []Sample
	// Parents counts transaction-controller samples left out: the
	// requests inside them are samples of their own.
	Parents int
	// SubResults counts sub-samples left out (redirects and embedded
	// resources inside an <httpSample>; the parent counts them).
	SubResults int
}

// Read reads a JTL file: CSV with its header line (JMeter's default
// since 2.13, any delimiter) or XML (<testResults> of <httpSample> and
// <sample>), whichever it is.
func Read(r io.Reader) (*File, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: the file is empty", ErrEmpty)
			}
			return nil, fmt.Errorf("jtl: %w", err)
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		case 0xEF: // a UTF-8 byte order mark
			bom, _ := br.Peek(3)
			if bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
				_, _ = br.Discard(3)
				continue
			}
		case '<':
			return readXML(br)
		}
		return readCSV(br)
	}
}

// Column names of a CSV JTL header, as JMeter writes them.
var csvFields = []string{"timeStamp", "elapsed", "label", "responseCode", "responseMessage", "threadName", "dataType",
	"success", "failureMessage", "bytes", "sentBytes", "grpThreads", "allThreads", "URL", "Latency", "IdleTime", "Connect"}

func readCSV(br *bufio.Reader) (*File, error) {
	head, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("jtl: %w", err)
	}
	head = strings.TrimRight(head, "\r\n")
	i := strings.Index(head, "timeStamp")
	if i < 0 || i+len("timeStamp") >= len(head) || !strings.Contains(head, "elapsed") {
		return nil, fmt.Errorf("%w: the first line is not a CSV JTL header (timeStamp,elapsed,label,...); save results with jmeter.save.saveservice.print_field_names=true (the default since JMeter 2.13) or as XML", ErrFormat)
	}
	delim := rune(head[i+len("timeStamp")])
	cr := csv.NewReader(io.MultiReader(strings.NewReader(head+"\n"), br))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	col := map[string]int{}
	for i, h := range hdr {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"timeStamp", "elapsed"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%w: the header has no %s column", ErrFormat, need)
		}
	}
	f := &File{Format: "csv"}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("jtl: line %d: %w", line, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		s, err := sample(get)
		if err != nil {
			return nil, fmt.Errorf("jtl: line %d: %w", line, err)
		}
		if isParent(s) {
			f.Parents++
			continue
		}
		if len(f.Samples) >= maxSamples {
			return nil, fmt.Errorf("jtl: more than %d samples; split the file", maxSamples)
		}
		f.Samples = append(f.Samples, s)
	}
	if len(f.Samples) == 0 {
		return nil, ErrEmpty
	}
	return f, nil
}

// isParent tells a transaction controller's sample ("generate parent
// sample" off): JMeter writes it as a row of its own.
func isParent(s Sample) bool {
	return strings.HasPrefix(s.Message, "Number of samples in transaction")
}

// Timestamp layouts JMeter may be told to write
// (jmeter.save.saveservice.timestamp_format); read as UTC.
var timeLayouts = []string{
	"2006/01/02 15:04:05.000", "2006-01-02 15:04:05.000", "2006/01/02 15:04:05", "2006-01-02 15:04:05",
	time.RFC3339Nano, "2006-01-02T15:04:05.000", "2006-01-02T15:04:05",
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < 0 || ms > 1<<50 {
			return time.Time{}, fmt.Errorf("timeStamp %q is out of range", s)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timeStamp %q is neither milliseconds since 1970 nor a date JMeter writes", s)
}

func millis(s, what string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 || ms > int64(24*time.Hour/time.Millisecond) {
		return 0, fmt.Errorf("%s %q is not a number of milliseconds", what, s)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func count(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func threads(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// sample builds a Sample from named fields (CSV columns or XML
// attributes, looked up by their CSV names).
func sample(get func(string) string) (Sample, error) {
	var s Sample
	var err error
	if s.Start, err = parseTime(get("timeStamp")); err != nil {
		return s, err
	}
	if s.Elapsed, err = millis(get("elapsed"), "elapsed"); err != nil {
		return s, err
	}
	s.Latency, _ = millis(get("Latency"), "Latency")
	s.Connect, _ = millis(get("Connect"), "Connect")
	s.Label = get("label")
	s.Code = strings.TrimSpace(get("responseCode"))
	if c, err := strconv.Atoi(s.Code); err == nil && c >= 100 && c <= 599 {
		s.Status = c
	}
	s.Message = get("responseMessage")
	s.Thread = get("threadName")
	s.Success = strings.EqualFold(strings.TrimSpace(get("success")), "true")
	s.Failure = get("failureMessage")
	s.Bytes, s.SentBytes = count(get("bytes")), count(get("sentBytes"))
	s.GrpThreads, s.AllThreads = threads(get("grpThreads")), threads(get("allThreads"))
	s.URL = get("URL")
	return s, nil
}

// xmlAttrs maps XML JTL attributes to CSV column names.
var xmlAttrs = map[string]string{
	"ts": "timeStamp", "t": "elapsed", "lb": "label", "rc": "responseCode", "rm": "responseMessage",
	"tn": "threadName", "dt": "dataType", "s": "success", "by": "bytes", "sby": "sentBytes",
	"ng": "grpThreads", "na": "allThreads", "lt": "Latency", "it": "IdleTime", "ct": "Connect",
}

const maxXMLDepth = 64

func readXML(br *bufio.Reader) (*File, error) {
	d := xml.NewDecoder(br)
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	f := &File{Format: "xml"}
	var root bool
	for {
		t, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, xmlErr(d, err)
		}
		se, ok := t.(xml.StartElement)
		if !ok {
			continue
		}
		if !root {
			if se.Name.Local != "testResults" {
				return nil, fmt.Errorf("%w: the root element is <%s>, want <testResults>", ErrFormat, se.Name.Local)
			}
			root = true
			continue
		}
		if se.Name.Local != "httpSample" && se.Name.Local != "sample" {
			if err := d.Skip(); err != nil {
				return nil, xmlErr(d, err)
			}
			continue
		}
		ss, err := readXMLSample(d, se, f, 0)
		if err != nil {
			return nil, err
		}
		if len(f.Samples)+len(ss) > maxSamples {
			return nil, fmt.Errorf("jtl: more than %d samples; split the file", maxSamples)
		}
		f.Samples = append(f.Samples, ss...)
	}
	if !root {
		return nil, fmt.Errorf("%w: no <testResults> element", ErrFormat)
	}
	if len(f.Samples) == 0 {
		return nil, ErrEmpty
	}
	return f, nil
}

func xmlErr(d *xml.Decoder, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("jtl: line %d: malformed XML: %s", se.Line, se.Msg)
	}
	line, _ := d.InputPos()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("jtl: line %d: the file ends inside an element; it is truncated", line)
	}
	return fmt.Errorf("jtl: line %d: %w", line, err)
}

// readXMLSample reads one <httpSample> or <sample> (whose start tag is
// se) with its children. A transaction controller's <sample> gives its
// children's samples; an <httpSample> gives itself (its sub-results,
// redirects and embedded resources, are inside its time).
func readXMLSample(d *xml.Decoder, se xml.StartElement, f *File, depth int) ([]Sample, error) {
	if depth > maxXMLDepth {
		return nil, fmt.Errorf("jtl: samples nest deeper than %d levels", maxXMLDepth)
	}
	attrs := map[string]string{}
	for _, a := range se.Attr {
		if name, ok := xmlAttrs[a.Name.Local]; ok {
			attrs[name] = a.Value
		}
	}
	var children []Sample
	var headers, url strings.Builder
	var text *strings.Builder
	for {
		t, err := d.Token()
		if err != nil {
			return nil, xmlErr(d, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "httpSample", "sample":
				ss, err := readXMLSample(d, t, f, depth+1)
				if err != nil {
					return nil, err
				}
				children = append(children, ss...)
			case "responseHeader":
				text = &headers
			case "java.net.URL":
				text = &url
			default:
				if err := d.Skip(); err != nil {
					return nil, xmlErr(d, err)
				}
			}
		case xml.CharData:
			if text != nil && text.Len() < 64<<10 {
				text.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "responseHeader" || t.Name.Local == "java.net.URL" {
				text = nil
				continue
			}
			attrs["URL"] = strings.TrimSpace(url.String())
			s, err := sample(func(k string) string { return attrs[k] })
			if err != nil {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("jtl: line %d: %w", line, err)
			}
			s.Headers = headers.String()
			if len(children) > 0 && (se.Name.Local == "sample" || isParent(s)) {
				f.Parents++
				return children, nil
			}
			f.SubResults += len(children)
			if isParent(s) {
				f.Parents++
				return nil, nil
			}
			return []Sample{s}, nil
		}
	}
}

// header returns a lookup over a sample's saved response headers.
func header(raw string) func(string) string {
	if raw == "" {
		return nil
	}
	h := map[string]string{}
	for _, line := range strings.Split(raw, "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok || strings.ContainsAny(k, " \t") {
			continue
		}
		h[textproto.CanonicalMIMEHeaderKey(k)] = strings.TrimSpace(v)
	}
	return func(name string) string { return h[textproto.CanonicalMIMEHeaderKey(name)] }
}

// threadGroup is a thread name's group: "Bot users 1-23" → "Bot users".
var threadSuffix = regexp.MustCompile(`\s+\d+-\d+$`)

func threadGroup(thread string) string {
	g := strings.TrimSpace(threadSuffix.ReplaceAllString(thread, ""))
	if g == "" {
		return "jmeter"
	}
	return g
}
