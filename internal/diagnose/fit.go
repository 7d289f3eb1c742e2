package diagnose

import (
	"cmp"
	"math"
	"slices"
)

// knee is a hinge fitted to latency over concurrency:
// y = base + slope·max(0, x − knee).
type knee struct {
	knee, base, slope float64
	xmax              float64
}

// fitKnee fits a hinge to (xs, ys) by least squares over a grid of knee
// positions. ok is false with fewer than four points, when the best
// hinge does not slope up, or when it explains less than half of what a
// flat line leaves unexplained.
func fitKnee(xs, ys []float64) (knee, bool) {
	n := len(xs)
	if n < 4 {
		return knee{}, false
	}
	xmin, xmax := slices.Min(xs), slices.Max(xs)
	if xmax <= xmin {
		return knee{}, false
	}
	var my float64
	for _, y := range ys {
		my += y
	}
	my /= float64(n)
	var flat float64
	for _, y := range ys {
		flat += (y - my) * (y - my)
	}
	best, bestSSE := knee{}, math.Inf(1)
	const steps = 400
	for i := 0; i <= steps; i++ {
		k := xmin + (xmax-xmin)*float64(i)/steps
		// At least one point at or below the knee and two above it.
		below, above := 0, 0
		for _, x := range xs {
			if x <= k {
				below++
			} else {
				above++
			}
		}
		if below < 1 || above < 2 {
			continue
		}
		// Least squares for y = a + b·z with z = max(0, x − k).
		var sz, szz, szy, sy float64
		for j, x := range xs {
			z := math.Max(0, x-k)
			sz += z
			szz += z * z
			szy += z * ys[j]
			sy += ys[j]
		}
		fn := float64(n)
		den := fn*szz - sz*sz
		if den <= 0 {
			continue
		}
		b := (fn*szy - sz*sy) / den
		a := (sy - b*sz) / fn
		if b <= 0 || a <= 0 {
			continue
		}
		var sse float64
		for j, x := range xs {
			r := ys[j] - (a + b*math.Max(0, x-k))
			sse += r * r
		}
		if sse < bestSSE {
			best, bestSSE = knee{knee: k, base: a, slope: b, xmax: xmax}, sse
		}
	}
	if math.IsInf(bestSSE, 1) || flat == 0 || bestSSE > 0.5*flat {
		return knee{}, false
	}
	return best, true
}

// interpolate returns y at x by linear interpolation over the points
// (xs, ys), sorted by x; clamped at the ends.
func interpolate(xs, ys []float64, x float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sortBy(idx, func(i int) float64 { return xs[i] })
	if x <= xs[idx[0]] {
		return ys[idx[0]]
	}
	for j := 1; j < len(idx); j++ {
		x0, x1 := xs[idx[j-1]], xs[idx[j]]
		if x <= x1 {
			if x1 == x0 {
				return ys[idx[j]]
			}
			t := (x - x0) / (x1 - x0)
			return ys[idx[j-1]] + t*(ys[idx[j]]-ys[idx[j-1]])
		}
	}
	return ys[idx[len(idx)-1]]
}

// sortBy sorts idx by key, stably.
func sortBy(idx []int, key func(int) float64) {
	slices.SortStableFunc(idx, func(i, j int) int { return cmp.Compare(key(i), key(j)) })
}
