package web

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// verdictColors are the graphs' colours, in stacking order; any other
// verdict is drawn as "other".
var verdictColors = []struct{ Verdict, Color string }{
	{"clean", "#4c9a2a"}, {"spam", "#e0a526"}, {"high-spam", "#d9661f"},
	{"infected", "#c0392b"}, {"blocked", "#8e44ad"}, {"other", "#7f8c8d"},
}

type legendItem struct{ Verdict, Color string }

func legend() []legendItem {
	var out []legendItem
	for _, v := range verdictColors {
		out = append(out, legendItem{v.Verdict, v.Color})
	}
	return out
}

const (
	graphW, graphH = 760.0, 220.0
	padL, padB     = 44.0, 24.0
)

// barChart draws messages per bucket by verdict as stacked bars, an SVG
// made here from numbers and escaped labels (no script, no style
// attribute: the page's Content-Security-Policy allows neither).
func barChart(buckets []store.StatsBucket, labelFmt string) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="messages by verdict">`, graphW, graphH, graphW, graphH)
	max := int64(0)
	for _, bk := range buckets {
		if t := total(bk); t > max {
			max = t
		}
	}
	top := niceMax(max)
	plotW, plotH := graphW-padL-4, graphH-padB-8
	// Axis and grid: 0, half, top.
	for _, f := range []float64{0, 0.5, 1} {
		y := 8 + plotH*(1-f)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ccc"/>`, padL, y, graphW-4, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="#555">%d</text>`, padL-4, y+3, int64(f*float64(top)))
	}
	n := len(buckets)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#555">no messages</text>`, graphW/2-40, graphH/2)
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	bw := plotW / float64(n)
	every := (n + 11) / 12 // about 12 labels
	for i, bk := range buckets {
		x := padL + float64(i)*bw
		y := 8 + plotH
		for _, v := range verdictColors {
			c := count(bk, v.Verdict)
			if c == 0 {
				continue
			}
			h := plotH * float64(c) / float64(top)
			y -= h
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d</title></rect>`,
				x+1, y, max1(bw-2), h, v.Color, template.HTMLEscapeString(bk.Start.Local().Format("2006-01-02 15:04")), v.Verdict, c)
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#555">%s</text>`, x, graphH-8, template.HTMLEscapeString(bk.Start.Local().Format(labelFmt)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func max1(f float64) float64 {
	if f < 1 {
		return 1
	}
	return f
}

func total(bk store.StatsBucket) int64 {
	var t int64
	for _, n := range bk.ByVerdict {
		t += n
	}
	return t
}

// count is a bucket's messages of verdict v; "other" sums the verdicts
// without a colour of their own.
func count(bk store.StatsBucket, v string) int64 {
	if v != "other" {
		return bk.ByVerdict[v]
	}
	var n int64
	for k, c := range bk.ByVerdict {
		known := false
		for _, vc := range verdictColors[:len(verdictColors)-1] {
			known = known || vc.Verdict == k
		}
		if !known {
			n += c
		}
	}
	return n
}

// niceMax rounds the largest bar up to 1, 2 or 5 times a power of ten.
func niceMax(m int64) int64 {
	if m <= 0 {
		return 1
	}
	p := int64(1)
	for {
		for _, f := range []int64{1, 2, 5} {
			if f*p >= m {
				return f * p
			}
		}
		p *= 10
	}
}

// totals sums each verdict over the buckets, for the table under a graph.
func totals(bs []store.StatsBucket) []store.Count {
	m := map[string]int64{}
	for _, b := range bs {
		for k, n := range b.ByVerdict {
			m[k] += n
		}
	}
	var out []store.Count
	for k, n := range m {
		out = append(out, store.Count{Key: k, N: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N > out[j].N || out[i].N == out[j].N && out[i].Key < out[j].Key })
	return out
}

var funcs = template.FuncMap{
	"totals": totals,
	"join":   func(l []string) string { return strings.Join(l, ", ") },
	"when":   func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
	"ago": func(d time.Duration) string {
		return d.Round(time.Second).String()
	},
	"subject": decodeSubject,
	"key":     func(r store.LogRecord) string { return keyString(store.LogKey{Time: r.Time, Row: r.Row}) },
	"ms":      func(f float64) string { return fmt.Sprintf("%.1f", f) },
}
