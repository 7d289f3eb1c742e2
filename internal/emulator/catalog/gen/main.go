// Command gen builds the emulator's catalogue of platform operations and
// models from the official JavaScript SDK (npm purecloud-platform-client-v2):
// routes, methods and operation names from src/purecloud-platform-client-v2/api/*.js,
// models and each operation's return and body types from index.d.ts. It
// writes gzipped JSON that package catalog embeds.
//
//	go run ./internal/emulator/catalog/gen -sdk conformance/sdk/node_modules/purecloud-platform-client-v2
//
// (go generate ./internal/emulator/catalog runs the same after
// `npm ci` in conformance/sdk.)
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/emulator/catalog"
)

func main() {
	sdk := flag.String("sdk", "conformance/sdk/node_modules/purecloud-platform-client-v2", "the installed purecloud-platform-client-v2 package")
	out := flag.String("out", "internal/emulator/catalog/catalog.json.gz", "where to write the catalogue")
	flag.Parse()
	if err := run(*sdk, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(sdk, out string) error {
	var pkg struct{ Version string }
	b, err := os.ReadFile(filepath.Join(sdk, "package.json"))
	if err != nil {
		return fmt.Errorf("%w (run `npm ci` in conformance/sdk first)", err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("%s/package.json: %w", sdk, err)
	}
	dts, err := os.ReadFile(filepath.Join(sdk, "index.d.ts"))
	if err != nil {
		return err
	}
	sigs, err := parseSignatures(string(dts))
	if err != nil {
		return err
	}
	models, err := parseModels(string(dts))
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(sdk, "src/purecloud-platform-client-v2/api/*Api.js"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("%s: no src/purecloud-platform-client-v2/api/*Api.js", sdk)
	}
	sort.Strings(files)
	c := catalog.File{SDK: pkg.Version, Models: models}
	seen := map[string]bool{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		class := strings.TrimSuffix(filepath.Base(f), ".js")
		ops, err := parseOps(f, string(src))
		if err != nil {
			return err
		}
		for _, op := range ops {
			// Several API classes declare the same operation (UsersApi and
			// AnalyticsApi both have the user aggregates jobs): keep the first.
			key := op.Method + " " + op.Path
			if seen[key] {
				continue
			}
			seen[key] = true
			sig, ok := sigs[class+"."+op.Name]
			if !ok {
				return fmt.Errorf("%s: %s has no declaration in index.d.ts", f, op.Name)
			}
			op.Group = strings.TrimSuffix(class, "Api")
			op.Returns = sig.returns
			if op.bodyParam != "" {
				op.Body, op.BodyOptional = sig.params[op.bodyParam], op.bodyParam == "opts.body"
				if op.Body == "" {
					return fmt.Errorf("%s: %s: no type for body parameter %q", f, op.Name, op.bodyParam)
				}
			}
			c.Ops = append(c.Ops, op.Op)
		}
	}
	sort.Slice(c.Ops, func(i, j int) bool {
		if c.Ops[i].Path != c.Ops[j].Path {
			return c.Ops[i].Path < c.Ops[j].Path
		}
		return c.Ops[i].Method < c.Ops[j].Method
	})
	// Check the result loads as the emulator will load it.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(c); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if _, err := catalog.Parse(buf.Bytes()); err != nil {
		return fmt.Errorf("generated catalogue does not load: %w", err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("gen: SDK %s: %d operations, %d models, %d bytes → %s\n", c.SDK, len(c.Ops), len(c.Models), buf.Len(), out)
	return nil
}

type op struct {
	catalog.Op
	bodyParam string // "body", or the named parameter
}

// One SDK method: its name, then the callApi arguments (path, method, path
// params, query params, header params, form params, body).
var methodRE = regexp.MustCompile(`(?s)\n\t(\w+)\([^)]*\) \{ \n.*?this\.apiClient\.callApi\(\s*'([^']+)',\s*'(\w+)',\s*\{([^}]*)\},\s*\{([^}]*)\},\s*\{([^}]*)\},\s*\{([^}]*)\},\s*([^,]+),`)

var keyRE = regexp.MustCompile(`'([^']+)':`)

func parseOps(file, src string) ([]op, error) {
	var ops []op
	for _, m := range methodRE.FindAllStringSubmatch(src, -1) {
		o := op{Op: catalog.Op{Name: m[1], Path: m[2], Method: m[3]}}
		for _, q := range keyRE.FindAllStringSubmatch(m[5], -1) {
			o.Query = append(o.Query, q[1])
		}
		switch body := strings.TrimSpace(m[8]); body {
		case "null":
		case "opts['body']":
			o.bodyParam = "opts.body"
		default:
			o.bodyParam = body
		}
		ops = append(ops, o)
	}
	if n := strings.Count(src, "this.apiClient.callApi("); n != len(ops) {
		return nil, fmt.Errorf("%s: parsed %d of %d operations: the SDK's layout changed", file, len(ops), n)
	}
	return ops, nil
}

type signature struct {
	returns string
	params  map[string]string // name → declared type; "opts.body" for an optional body
}

var (
	classRE  = regexp.MustCompile(`(?m)^declare class (\w+Api) \{`)
	sigRE    = regexp.MustCompile(`(?m)^  \t(\w+)\((.*)\): Promise<(.+)>;$`)
	nsRE     = regexp.MustCompile(`(?m)^declare namespace (\w+Api) \{`)
	optsRE   = regexp.MustCompile(`(?ms)^\texport interface (\w+)Options \{\s*\n(.*?)^\t\}`)
	optBodyR = regexp.MustCompile(`(?m)^\t\t"body"\?: (.+);$`)
)

// parseSignatures reads every API class's method declarations.
func parseSignatures(dts string) (map[string]signature, error) {
	out := map[string]signature{}
	classes := classRE.FindAllStringSubmatchIndex(dts, -1)
	for i, c := range classes {
		class := dts[c[2]:c[3]]
		end := len(dts)
		if i+1 < len(classes) {
			end = classes[i+1][0]
		}
		block := dts[c[1]:end]
		ns := ""
		if k := nsRE.FindStringIndex(block); k != nil {
			ns = block[k[0]:]
			block = block[:k[0]]
		}
		bodies := map[string]string{}
		for _, m := range optsRE.FindAllStringSubmatch(ns, -1) {
			if b := optBodyR.FindStringSubmatch(m[2]); b != nil {
				bodies[m[1]] = b[1]
			}
		}
		for _, m := range sigRE.FindAllStringSubmatch(block, -1) {
			s := signature{returns: m[3], params: map[string]string{}}
			if s.returns == "void" {
				s.returns = ""
			}
			for _, p := range splitParams(m[2]) {
				name, typ, ok := strings.Cut(p, ": ")
				if ok {
					s.params[strings.TrimSuffix(name, "?")] = typ
				}
			}
			if b, ok := bodies[m[1]]; ok {
				s.params["opts.body"] = b
			}
			out[class+"."+m[1]] = s
		}
	}
	if len(out) == 0 {
		return nil, errors.New("index.d.ts: no API class declarations")
	}
	return out, nil
}

// splitParams splits a parameter list at top-level commas.
func splitParams(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '<', '{', '(':
			depth++
		case '>', '}', ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

var (
	ifaceRE = regexp.MustCompile(`(?ms)^\texport interface (\w+) \{\s*\n(.*?)^\t\}`)
	fieldRE = regexp.MustCompile(`^\t\t"([^"]+)"(\?)?: (.+);$`)
)

// parseModels reads `declare namespace Models { export interface X {...} }`.
func parseModels(dts string) (map[string][]catalog.Field, error) {
	start := strings.Index(dts, "declare namespace Models {")
	if start < 0 {
		return nil, errors.New(`index.d.ts: no "declare namespace Models"`)
	}
	out := map[string][]catalog.Field{}
	for _, m := range ifaceRE.FindAllStringSubmatch(dts[start:], -1) {
		fields := []catalog.Field{}
		for _, line := range strings.Split(m[2], "\n") {
			if f := fieldRE.FindStringSubmatch(line); f != nil {
				fields = append(fields, catalog.Field{Name: f[1], Type: f[3], Required: f[2] == ""})
			}
		}
		out[m[1]] = fields
	}
	if len(out) == 0 {
		return nil, errors.New("index.d.ts: no models")
	}
	return out, nil
}
