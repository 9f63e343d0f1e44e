// goclient: the Go net/http peer for bench/compare. A closed loop of c x m
// requests in flight (c transports with one HTTP/2 connection each, m
// goroutines per transport), -n requests in total, then one JSON object with
// the same fields as `rebound bench --json`.
//
// Standard library only: HTTP/2 comes from net/http's bundled transport over
// TLS (ALPN h2). h2c needs golang.org/x/net, which this build must not fetch,
// so plain http:// URLs are refused.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type latency struct {
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

type report struct {
	URL         string            `json:"url"`
	Requests    uint64            `json:"requests"`
	Succeeded   uint64            `json:"succeeded"`
	Failed      uint64            `json:"failed"`
	Seconds     float64           `json:"seconds"`
	ReqPerS     float64           `json:"req_per_s"`
	MBPerS      float64           `json:"mb_per_s"`
	LatencyMs   latency           `json:"latency_ms"`
	Status      map[string]uint64 `json:"status"`
	Errors      map[string]uint64 `json:"errors"`
	Connections int               `json:"connections"`
	Streams     int               `json:"streams"`
	Protocol    string            `json:"protocol"`
	TLSCipher   string            `json:"tls_cipher"`
	GoVersion   string            `json:"go_version"`
}

// worker results, merged at the end so the hot path shares nothing.
type workerStats struct {
	latUs  []uint32
	status map[int]uint64
	errors map[string]uint64
	bytes  uint64
}

func main() {
	n := flag.Uint64("n", 10000, "total requests")
	c := flag.Int("c", 1, "connections (one transport each)")
	m := flag.Int("m", 1, "requests in flight per connection")
	insecure := flag.Bool("k", true, "skip certificate verification")
	flag.Parse()
	if flag.NArg() != 1 || *c < 1 || *m < 1 {
		fmt.Fprintln(os.Stderr, "usage: goclient [-n N] [-c C] [-m M] https://host:port/path")
		os.Exit(2)
	}
	url := flag.Arg(0)
	if !strings.HasPrefix(url, "https://") {
		fmt.Fprintln(os.Stderr, "goclient: only https:// (h2c needs golang.org/x/net)")
		os.Exit(2)
	}

	clients := make([]*http.Client, *c)
	var protocol, cipher string
	for i := range clients {
		tr := &http.Transport{
			TLSClientConfig:     &tls.Config{InsecureSkipVerify: *insecure},
			ForceAttemptHTTP2:   true,
			MaxConnsPerHost:     1,
			MaxIdleConnsPerHost: *m,
			DisableCompression:  true,
		}
		clients[i] = &http.Client{Transport: tr}
		// One request per transport before the clock starts, so each holds
		// exactly one connection (and we learn the protocol and cipher).
		resp, err := clients[i].Get(url)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goclient: warm-up:", err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		protocol = resp.Proto
		if resp.TLS != nil {
			cipher = tls.CipherSuiteName(resp.TLS.CipherSuite)
		}
	}

	var issued uint64
	workers := *c * *m
	stats := make([]workerStats, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cl := clients[w / *m]
			s := &stats[w]
			s.status = map[int]uint64{}
			s.errors = map[string]uint64{}
			for atomic.AddUint64(&issued, 1) <= *n {
				t0 := time.Now()
				resp, err := cl.Get(url)
				if err != nil {
					s.errors[errKind(err)]++
					continue
				}
				nb, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					s.errors["body"]++
					continue
				}
				s.latUs = append(s.latUs, uint32(time.Since(t0).Microseconds()))
				s.status[resp.StatusCode]++
				s.bytes += uint64(nb)
			}
		}(w)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()

	var lat []uint32
	r := report{URL: url, Status: map[string]uint64{}, Errors: map[string]uint64{}, Connections: *c, Streams: *m,
		Protocol: protocol, TLSCipher: cipher, GoVersion: runtime.Version()}
	var bytes uint64
	for _, s := range stats {
		lat = append(lat, s.latUs...)
		for k, v := range s.status {
			r.Status[fmt.Sprint(k)] += v
		}
		for k, v := range s.errors {
			r.Errors[k] += v
			r.Failed += v
		}
		bytes += s.bytes
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(p * float64(len(lat)))
		if i >= len(lat) {
			i = len(lat) - 1
		}
		return float64(lat[i]) / 1000
	}
	r.Succeeded = uint64(len(lat))
	r.Requests = r.Succeeded + r.Failed
	r.Seconds = secs
	r.ReqPerS = float64(r.Requests) / secs
	r.MBPerS = float64(bytes) / secs / 1e6
	r.LatencyMs = latency{Min: pct(0), P50: pct(0.5), P90: pct(0.9), P99: pct(0.99)}
	if len(lat) > 0 {
		r.LatencyMs.Max = float64(lat[len(lat)-1]) / 1000
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	if r.Failed > 0 {
		os.Exit(1)
	}
}

func errKind(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "timeout"):
		return "timeout"
	case strings.Contains(msg, "refused"):
		return "connect"
	case strings.Contains(msg, "reset"):
		return "reset"
	case strings.Contains(msg, "EOF"):
		return "eof"
	}
	return "other"
}
