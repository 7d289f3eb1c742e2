package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// chart is one time-series chart, rendered server-side as inline SVG:
// no script, no external resource. Every number is formatted with fixed
// precision so the output is byte-stable.
type chart struct {
	ID    string // data-chart attribute, stable for tests
	Title string
	Note  string // a line under the title
	// Unit and RightUnit label the left and right axes.
	Unit, RightUnit string
	// T are the buckets' starts and W their lengths, in seconds.
	T, W   []float64
	Series []series
	// Stacked stacks the bar series on each other.
	Stacked bool
	// Log draws the left axis in powers of ten (for latency).
	Log bool
	// Marks are vertical lines at moments of the run (walls' onsets).
	Marks []mark
	// Levels are horizontal lines at values walls stand at: the rate a
	// limit lets through, the concurrency a cap allows.
	Levels []level
	// Bands shade spans of time that read otherwise than they look.
	Bands []band
	// XTicks, when set, replace the time axis: T and W are then
	// positions, labelled at these ticks in XUnit.
	XTicks []xtick
	XUnit  string
	// Tip returns the tooltip of bucket i.
	Tip func(i int) string
}

type series struct {
	Name  string
	Color string
	Bar   bool // bars (stacked when the chart is), else a line
	Dash  bool
	Right bool // plotted against the right axis
	// Y holds one value per bucket; NaN leaves a gap.
	Y []float64
}

type mark struct {
	T     float64
	Label string
	Color string
}

type level struct {
	Y     float64
	Label string
	Color string
	Kind  string // data-level attribute, stable for tests
}

type band struct {
	T0, T1 float64
	Label  string
}

type xtick struct {
	X     float64
	Label string
}

// empty reports whether the chart has nothing to draw.
func (c *chart) empty() bool {
	for _, s := range c.Series {
		for _, y := range s.Y {
			if y > 0 {
				return false
			}
		}
	}
	return true
}

// Geometry of every chart, in SVG user units (the SVG scales to its box).
const (
	chartW   = 640.0
	chartH   = 220.0
	padLeft  = 52.0
	padRight = 14.0
	padRAxis = 52.0
	padTop   = 22.0
	padBot   = 30.0
)

func f1(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// niceMax rounds v up to 1, 2, 2.5 or 5 times a power of ten, and returns
// it with a tick step that divides it into four or five.
func niceMax(v float64) (top, step float64) {
	if !(v > 0) || math.IsInf(v, 0) {
		return 1, 0.25
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*0.9999 {
			top = m * p
			break
		}
	}
	switch top / p {
	case 1, 10:
		step = top / 5
	case 2:
		step = top / 4
	case 2.5:
		step = top / 5
	default:
		step = top / 5
	}
	return top, step
}

// tickLabel formats an axis value compactly: 1500 → "1.5k".
func tickLabel(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimZero(strconv.FormatFloat(v/1e6, 'f', 1, 64)) + "M"
	case a >= 1e4:
		return trimZero(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	case a >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return trimZero(strconv.FormatFloat(v, 'f', 1, 64))
	}
	return trimZero(strconv.FormatFloat(v, 'f', 2, 64))
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// SVG renders the chart.
func (c *chart) SVG() template.HTML {
	var b strings.Builder
	right := false
	for _, s := range c.Series {
		right = right || s.Right
	}
	x0, x1 := padLeft, chartW-padRight
	if right {
		x1 = chartW - padRAxis
	}
	y0, y1 := chartH-padBot, padTop // y0 is the baseline (bottom)
	tEnd := 1.0
	if n := len(c.T); n > 0 {
		tEnd = math.Max(c.T[n-1]+c.W[n-1], 1)
	}
	tTop, tStep := niceMax(tEnd)
	if tTop > tEnd*1.25 && tEnd >= 4 {
		tTop = math.Ceil(tEnd)
		_, tStep = niceMax(tTop)
	}
	if c.XTicks != nil {
		tTop = tEnd
	}
	sx := func(t float64) float64 { return x0 + (x1-x0)*t/tTop }

	// Axis ranges: stacked bars add up; lines take their max.
	leftMax, rightMax := 0.0, 0.0
	stack := make([]float64, len(c.T))
	for _, s := range c.Series {
		for i, y := range s.Y {
			if math.IsNaN(y) {
				continue
			}
			v := y
			if s.Bar && c.Stacked {
				stack[i] += y
				v = stack[i]
			}
			if s.Right {
				rightMax = math.Max(rightMax, v)
			} else {
				leftMax = math.Max(leftMax, v)
			}
		}
	}
	for _, l := range c.Levels {
		leftMax = math.Max(leftMax, l.Y*1.1) // room for its label
	}
	lTop, lStep := niceMax(leftMax)
	rTop, rStep := niceMax(rightMax)
	// Log scale: whole decades around the positive values.
	logLo, logHi := 0.0, 1.0
	if c.Log {
		lo := math.Inf(1)
		for _, s := range c.Series {
			for _, y := range s.Y {
				if y > 0 && !s.Right {
					lo = math.Min(lo, y)
				}
			}
		}
		for _, l := range c.Levels {
			if l.Y > 0 {
				lo = math.Min(lo, l.Y)
			}
		}
		if math.IsInf(lo, 1) {
			lo = 1
		}
		logLo = math.Floor(math.Log10(lo))
		logHi = math.Max(math.Ceil(math.Log10(math.Max(leftMax, lo))), logLo+1)
	}
	sy := func(v float64, r bool) float64 {
		if c.Log && !r {
			if v <= 0 {
				return math.NaN()
			}
			return y0 - (y0-y1)*(math.Log10(v)-logLo)/(logHi-logLo)
		}
		top := lTop
		if r {
			top = rTop
		}
		return y0 - (y0-y1)*v/top
	}

	fmt.Fprintf(&b, `<svg class="chart" data-chart="%s" viewBox="0 0 %s %s" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(c.ID), f1(chartW), f1(chartH), html.EscapeString(c.Title))
	// Grid and left axis labels.
	b.WriteString(`<g class="grid">`)
	var ticks []float64
	if c.Log {
		for e := logLo; e <= logHi; e++ {
			ticks = append(ticks, math.Pow(10, e))
		}
	} else {
		for v := 0.0; v <= lTop*1.0001; v += lStep {
			ticks = append(ticks, v)
		}
	}
	for _, v := range ticks {
		y := sy(v, false)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(x0), f1(y), f1(x1), f1(y))
		fmt.Fprintf(&b, `<text class="yl" x="%s" y="%s">%s</text>`, f1(x0-6), f1(y+4), tickLabel(v))
	}
	if right {
		for v := 0.0; v <= rTop*1.0001; v += rStep {
			fmt.Fprintf(&b, `<text class="yr" x="%s" y="%s">%s</text>`, f1(x1+6), f1(sy(v, true)+4), tickLabel(v))
		}
	}
	xticks := c.XTicks
	if xticks == nil {
		for t := 0.0; t <= tTop*1.0001; t += tStep {
			xticks = append(xticks, xtick{X: t, Label: tickLabel(t)})
		}
	}
	for _, t := range xticks {
		x := sx(t.X)
		fmt.Fprintf(&b, `<line class="xt" x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(x), f1(y0), f1(x), f1(y0+4))
		fmt.Fprintf(&b, `<text class="xl" x="%s" y="%s">%s</text>`, f1(x), f1(y0+17), html.EscapeString(t.Label))
	}
	b.WriteString(`</g>`)
	xunit := "s"
	if c.XUnit != "" {
		xunit = c.XUnit
	}
	fmt.Fprintf(&b, `<text class="axis" x="%s" y="%s">%s</text>`, f1(x0), f1(chartH-2), html.EscapeString(xunit))
	if c.Unit != "" {
		fmt.Fprintf(&b, `<text class="unit" x="4" y="10">%s</text>`, html.EscapeString(c.Unit))
	}
	if right && c.RightUnit != "" {
		fmt.Fprintf(&b, `<text class="unit r" x="%s" y="10">%s</text>`, f1(chartW-4), html.EscapeString(c.RightUnit))
	}

	// Bands, under the data.
	for _, bd := range c.Bands {
		xa, xb := sx(bd.T0), sx(bd.T1)
		fmt.Fprintf(&b, `<rect class="band" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			f1(xa), f1(y1), f1(math.Max(xb-xa, 0.5)), f1(y0-y1), html.EscapeString(bd.Label))
	}
	// Bars, stacked bottom-up in series order.
	for i := range stack {
		stack[i] = 0
	}
	for _, s := range c.Series {
		if !s.Bar {
			continue
		}
		fmt.Fprintf(&b, `<g class="bars" data-series="%s" fill="%s">`, html.EscapeString(s.Name), s.Color)
		for i, y := range s.Y {
			if math.IsNaN(y) || y <= 0 {
				continue
			}
			base := 0.0
			if c.Stacked {
				base = stack[i]
				stack[i] += y
			}
			xa, xb := sx(c.T[i]), sx(c.T[i]+c.W[i])
			gap := math.Min((xb-xa)*0.12, 2)
			top, bot := sy(base+y, s.Right), sy(base, s.Right)
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s"/>`, f1(xa+gap/2), f1(top), f1(math.Max(xb-xa-gap, 0.5)), f1(math.Max(bot-top, 0.5)))
		}
		b.WriteString(`</g>`)
	}
	// Lines, through each bucket's middle; NaN breaks them.
	for _, s := range c.Series {
		if s.Bar {
			continue
		}
		var d, dots strings.Builder
		gap := func(i int) bool { return i < 0 || i >= len(s.Y) || math.IsNaN(sy(s.Y[i], s.Right)) }
		for i, y := range s.Y {
			if gap(i) {
				continue
			}
			x, yy := f1(sx(c.T[i]+c.W[i]/2)), f1(sy(y, s.Right))
			switch {
			case gap(i-1) && gap(i+1):
				// An isolated value: a path of one point draws nothing.
				fmt.Fprintf(&dots, `<circle cx="%s" cy="%s" r="2.2"/>`, x, yy)
			case gap(i - 1):
				fmt.Fprintf(&d, "M%s %s", x, yy)
			default:
				fmt.Fprintf(&d, "L%s %s", x, yy)
			}
		}
		if d.Len() == 0 && dots.Len() == 0 {
			continue
		}
		dash := ""
		if s.Dash {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&b, `<path class="line" data-series="%s" d="%s" stroke="%s"%s/>`, html.EscapeString(s.Name), d.String(), s.Color, dash)
		if dots.Len() > 0 {
			fmt.Fprintf(&b, `<g class="dots" fill="%s">%s</g>`, s.Color, dots.String())
		}
	}
	// The levels walls stand at, labelled at the right end.
	for _, l := range c.Levels {
		y := sy(l.Y, false)
		if math.IsNaN(y) {
			continue
		}
		fmt.Fprintf(&b, `<g class="level" data-level="%s" data-value="%s"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="2 2"/><text x="%s" y="%s" style="fill: %s">%s</text></g>`,
			l.Kind, trimZero(strconv.FormatFloat(l.Y, 'f', 3, 64)), f1(x0), f1(y), f1(x1), f1(y), l.Color, f1(x1-3), f1(y-4), l.Color, html.EscapeString(l.Label))
	}
	// Walls' onsets.
	for _, m := range c.Marks {
		x := sx(m.T)
		fmt.Fprintf(&b, `<g class="mark"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/><text x="%s" y="%s" fill="%s">%s</text></g>`,
			f1(x), f1(y1), f1(x), f1(y0), m.Color, f1(x+3), f1(y1+9), m.Color, html.EscapeString(m.Label))
	}
	// Hover columns: a native tooltip per bucket.
	if c.Tip != nil {
		b.WriteString(`<g class="hover">`)
		for i := range c.T {
			xa, xb := sx(c.T[i]), sx(c.T[i]+c.W[i])
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
				f1(xa), f1(y1), f1(math.Max(xb-xa, 0.5)), f1(y0-y1), html.EscapeString(c.Tip(i)))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Legend returns the chart's legend entries.
func (c *chart) Legend() []series {
	return c.Series
}
