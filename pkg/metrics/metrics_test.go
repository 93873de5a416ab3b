package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestScrape(t *testing.T) {
	m := New(func() (int, time.Duration) { return 7, 90 * time.Second })
	m.Message("infected", "cleaned", 1234, map[string]int64{"virus": 12, "explode": 3})
	m.Batch(3, 50*time.Millisecond, time.Millisecond, 2*time.Millisecond, 20*time.Millisecond)
	m.Engine("clamd", false)
	m.SpamScore(7.5)
	for i := 0; i < MaxVirusNames+5; i++ {
		m.Virus(fmt.Sprintf("Virus.%d", i))
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{
		`qscan_messages_total{action="cleaned",verdict="infected"} 1`,
		`qscan_bytes_total{verdict="infected"} 1234`,
		`qscan_stage_duration_seconds_count{stage="virus"} 1`,
		`qscan_stage_duration_seconds_count{stage="commit"} 1`,
		`qscan_engine_up{engine="clamd"} 0`,
		`qscan_engine_errors_total{engine="clamd"} 1`,
		`qscan_incoming_queue_depth 7`,
		`qscan_incoming_oldest_seconds 90`,
		`qscan_viruses_total{name="other"} 5`,
		`qscan_spam_score_count 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestServeBadAddress(t *testing.T) {
	if _, err := New(nil).Serve("256.0.0.1:99999"); err == nil {
		t.Error("Serve on a bad address: no error")
	}
}

// TestScrapeFilter: the SMTP filter's gauges appear once it reports.
func TestScrapeFilter(t *testing.T) {
	m := New(nil)
	scrape := func() string {
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if strings.Contains(scrape(), "qscan_smtp_accepting") {
		t.Error("filter gauges without a filter")
	}
	m.Filter(true, 3)
	m.Filter(false, 42)
	body := scrape()
	for _, want := range []string{"qscan_smtp_accepting 0", "qscan_spool_messages 42"} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
