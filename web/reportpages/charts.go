package reportpages

import (
	"fmt"
	"math"
)

// The charts are drawn on the server as SVG: no script, no library, and the same numbers as
// the data table printed beside each one for screen readers.

// Colours with at least 3:1 contrast against white (WCAG 1.4.11), one per series.
var palette = []string{"#1f5fa8", "#b8520a", "#2e7d32", "#7b3fa0", "#a3153d", "#00707a", "#5d5d5d", "#8a6d00"}

// barChart is a vertical stacked bar chart.
type barChart struct {
	Width, Height int
	Bars          []bar
	Legend        []legendItem
	Ticks         []tick
	// Target, when set, is a horizontal line (a service level target) at TargetY.
	Target      bool
	TargetY     float64
	TargetLabel string
}

type bar struct {
	X, W  float64
	Label string
	// ShowLabel: only some bars carry their label, so they stay readable.
	ShowLabel bool
	Segments  []segment
}

type segment struct {
	Y, H  float64
	Fill  string
	Title string
}

type legendItem struct {
	Label, Fill string
	X           int
}

type tick struct {
	Y     float64
	Label string
}

const (
	chartW, chartH     = 720, 240
	padLeft, padBottom = 48, 28
	padTop             = 12
)

// series is one stack level: its label and its value per bar.
type series struct {
	Label  string
	Values []float64
}

// stacked draws labels[i] as a bar made of every series' values[i].
func stacked(labels []string, ss []series, format func(float64) string, maxValue float64) barChart {
	c := barChart{Width: chartW, Height: chartH}
	total := make([]float64, len(labels))
	for _, s := range ss {
		for i, v := range s.Values {
			total[i] += v
		}
	}
	top := maxValue
	for _, t := range total {
		top = math.Max(top, t)
	}
	if top == 0 {
		top = 1
	}
	plotH := float64(chartH - padTop - padBottom)
	scale := plotH / top
	n := max(len(labels), 1)
	step := float64(chartW-padLeft) / float64(n)
	every := max(1, n/12)
	for i, l := range labels {
		b := bar{X: padLeft + float64(i)*step + step*0.15, W: step * 0.7, Label: l, ShowLabel: i%every == 0}
		y := float64(chartH - padBottom)
		for k, s := range ss {
			h := s.Values[i] * scale
			if h <= 0 {
				continue
			}
			y -= h
			b.Segments = append(b.Segments, segment{Y: y, H: h, Fill: palette[k%len(palette)], Title: fmt.Sprintf("%s, %s: %s", l, s.Label, format(s.Values[i]))})
		}
		c.Bars = append(c.Bars, b)
	}
	for k := 0; k <= 4; k++ {
		v := top * float64(k) / 4
		c.Ticks = append(c.Ticks, tick{Y: float64(chartH-padBottom) - v*scale, Label: format(v)})
	}
	if len(ss) > 1 {
		for k, s := range ss {
			c.Legend = append(c.Legend, legendItem{Label: s.Label, Fill: palette[k%len(palette)], X: padLeft + k*130})
		}
	}
	return c
}

// hbarChart is a horizontal bar chart of shares (category mix, outcomes).
type hbarChart struct {
	Width, Height int
	Rows          []hbar
}

type hbar struct {
	Y, W         float64
	Label, Value string
	Fill         string
}

func horizontal(labels []string, values []int64) hbarChart {
	var total int64
	var top int64 = 1
	for _, v := range values {
		total += v
		top = max(top, v)
	}
	c := hbarChart{Width: chartW, Height: 26*len(labels) + 8}
	for i, l := range labels {
		share := 0.0
		if total > 0 {
			share = float64(values[i]) * 100 / float64(total)
		}
		c.Rows = append(c.Rows, hbar{Y: float64(8 + 26*i), W: float64(values[i]) / float64(top) * 360, Label: l,
			Value: fmt.Sprintf("%d (%.1f %%)", values[i], share), Fill: palette[0]})
	}
	return c
}
