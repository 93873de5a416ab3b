package spam

import (
	"math"
	"testing"
)

func TestClassify(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		score float64
		want  Level
	}{
		{-3, Ham}, {0, Ham}, {4.99, Ham}, {5, Spam}, {9.9, Spam}, {10, High}, {1000, High}, {math.NaN(), Ham},
	}
	for _, tt := range tests {
		if got := Classify(tt.score, p); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.score, got, tt.want)
		}
	}
}

func TestDecide(t *testing.T) {
	p := DefaultPolicy()
	ph := p
	ph.BlacklistHigh = true
	noLists := p
	noLists.ListsToBeSpam, noLists.ListsToBeHigh = 0, 0
	tests := []struct {
		name string
		in   Input
		p    Policy
		want Level
	}{
		{"ham", Input{Score: 1.2}, p, Ham},
		{"spam", Input{Score: 7.3}, p, Spam},
		{"high", Input{Score: 12}, p, High},
		{"whitelist wins over score", Input{Score: 50, Whitelisted: true}, p, Ham},
		{"whitelist wins over blacklist", Input{Whitelisted: true, Blacklisted: true}, p, Ham},
		{"blacklisted", Input{Score: 0, Blacklisted: true}, p, Spam},
		{"blacklisted high score", Input{Score: 20, Blacklisted: true}, p, High},
		{"blacklisted is high by option", Input{Blacklisted: true}, ph, High},
		{"one list", Input{Score: 1, Lists: []string{"SBL"}}, p, Spam},
		{"three lists", Input{Score: 1, Lists: []string{"A", "B", "C"}}, p, High},
		{"lists ignored", Input{Score: 1, Lists: []string{"A", "B", "C"}}, noLists, Ham},
		{"inf score", Input{Score: math.Inf(1)}, p, Ham},
		{"custom thresholds", Input{Score: 6}, Policy{Required: 6, High: 8}, Spam},
	}
	for _, tt := range tests {
		v := Decide(tt.in, tt.p)
		if v.Level != tt.want || v.Required != tt.p.Required {
			t.Errorf("%s: Decide(%+v) = %s required %v, want %s %v", tt.name, tt.in, v.Level, v.Required, tt.want, tt.p.Required)
		}
	}
}
