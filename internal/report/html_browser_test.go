package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds headless Chromium. In CI (CI=true) a missing browser
// fails the test; on a laptop it skips with the command that installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("headless Chromium not found: CI must install it (apt-get install -y chromium)")
	}
	t.Skip("headless Chromium not found; install it with: sudo apt-get install -y chromium")
	return ""
}

// headless runs Chromium on page with args and returns stdout and the
// console lines it logged.
func headless(t *testing.T, bin, page string, args ...string) (stdout []byte, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, errb.String())
	}
	for _, line := range strings.Split(errb.String(), "\n") {
		// Chromium logs every console message, errors and blocked loads
		// included, as INFO:CONSOLE; the report has no script, so any is
		// a fault.
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Refused to") || strings.Contains(line, "Uncaught") {
			console = append(console, line)
		}
	}
	return out.Bytes(), console
}

func TestHTMLReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page, err := WriteHTMLDir(runDir, filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	dom, console := headless(t, bin, page, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("console messages:\n%s", strings.Join(console, "\n"))
	}
	html := string(dom)
	for _, id := range []string{"rate", "latency", "statuses", "inflight", "retries", "ratelimit", "distribution"} {
		re := regexp.MustCompile(`(?s)<svg class="chart" data-chart="` + id + `"[^>]*>.*?(<path class="line"|<g class="bars").*?</svg>`)
		if !re.MatchString(html) {
			t.Errorf("chart %q missing or empty in the rendered DOM", id)
		}
	}
	for _, want := range []string{`id="diagnosis"`, `class="finding" data-kind="rate_limit"`, `id="thresholds"`, `<table class="steps">`, "inbound_open_message"} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered DOM lacks %s", want)
		}
	}

	shot := filepath.Join(dir, "report.png")
	_, console = headless(t, bin, page, "--hide-scrollbars", "--window-size=1280,1900", "--screenshot="+shot)
	if len(console) > 0 {
		t.Errorf("console messages while taking the screenshot:\n%s", strings.Join(console, "\n"))
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 1280 || r.Dy() != 1900 {
		t.Errorf("screenshot is %v, want 1280×1900", r)
	}
	// Not blank: the page has more than a handful of colours.
	colours := map[uint32]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 7 {
		for x := 0; x < img.Bounds().Dx(); x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: blank?", len(colours))
	}
	if *update {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "report.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
