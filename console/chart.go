package console

import (
	"strconv"

	"forstok-accurate-sync/admin"
)

// chart is the synced-and-failed-per-hour picture, laid out here and drawn
// by the template as inline SVG: no script, no library.
type chart struct {
	Width, Height int
	Bars          []bar
	Labels        []label
	Max           int64
	MaxY          int
	Base          int
	Hours         []admin.Hour
}

type bar struct {
	X, Y, W, H int
	Class      string
	Title      string
}

type label struct {
	X    int
	Text string
}

const (
	chartW    = 720
	chartH    = 200
	chartTop  = 16
	chartBase = 176
	chartLeft = 36
)

func drawChart(hours []admin.Hour, l lang) chart {
	c := chart{Width: chartW, Height: chartH, Base: chartBase, MaxY: chartTop, Hours: hours}
	for _, h := range hours {
		c.Max = max(c.Max, h.Synced, h.Failed)
	}
	scale := max(c.Max, 1)
	if len(hours) == 0 {
		return c
	}
	slot := (chartW - chartLeft) / len(hours)
	barW := (slot - 4) / 2
	height := func(n int64) int {
		if n == 0 {
			return 0
		}
		return max(2, int(n*int64(chartBase-chartTop)/scale))
	}
	for i, h := range hours {
		x := chartLeft + i*slot + 2
		when := l.Hour(h.Start) + ":00"
		hs, hf := height(h.Synced), height(h.Failed)
		c.Bars = append(c.Bars,
			bar{X: x, Y: chartBase - hs, W: barW, H: hs, Class: "synced", Title: when + " · " + l.T("state.synced") + " " + l.Num(h.Synced)},
			bar{X: x + barW, Y: chartBase - hf, W: barW, H: hf, Class: "failed", Title: when + " · " + l.T("state.failed") + " " + l.Num(h.Failed)})
		if i%3 == 0 {
			c.Labels = append(c.Labels, label{X: x + barW, Text: l.Hour(h.Start)})
		}
	}
	return c
}

// MaxText is the top of the scale, written for the axis.
func (c chart) MaxText() string { return strconv.FormatInt(c.Max, 10) }
