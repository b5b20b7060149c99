// Command dnsload is a small closed-loop DNS load generator: a fixed number
// of workers, each with its own UDP socket, send one query at a time and
// wait for its answer, for a fixed time. It reports QPS and latency
// percentiles, which dnsperf does not. Loopback targets only.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

type result struct {
	Server      string  `json:"server"`
	Concurrency int     `json:"concurrency"`
	Rate        int     `json:"rate,omitempty"`
	Seconds     float64 `json:"seconds"`
	Queries     int     `json:"queries"`
	Timeouts    int     `json:"timeouts"`
	Errors      int     `json:"errors"`
	QPS         float64 `json:"qps"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	P999us      float64 `json:"p999_us"`
	MaxUs       float64 `json:"max_us"`
	Rcodes      map[string]int
}

func main() {
	server := flag.String("server", "127.0.0.1:53", "server address (loopback only)")
	queries := flag.String("queries", "", "dnsperf-format query file: one \"name TYPE\" per line")
	concurrency := flag.Int("c", 8, "workers, each with one query in flight")
	duration := flag.Duration("d", 10*time.Second, "how long to run")
	timeout := flag.Duration("timeout", time.Second, "per-query timeout")
	label := flag.String("label", "", "label printed with the result")
	rate := flag.Int("rate", 0, "open loop: send this many queries per second in total, whatever the answers (0: closed loop)")
	compare := flag.String("compare", "", "instead of load: ask this second server every query once and check both answer the same")
	flag.Parse()
	if *compare != "" {
		if err := compareServers(*server, *compare, *queries); err != nil {
			fmt.Fprintln(os.Stderr, "dnsload:", err)
			os.Exit(1)
		}
		return
	}
	if *rate > 0 {
		if err := runOpenLoop(*server, *queries, *concurrency, *rate, *duration, *timeout, *label); err != nil {
			fmt.Fprintln(os.Stderr, "dnsload:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*server, *queries, *concurrency, *duration, *timeout, *label); err != nil {
		fmt.Fprintln(os.Stderr, "dnsload:", err)
		os.Exit(1)
	}
}

func checkLoopback(server string) error {
	host, _, err := net.SplitHostPort(server)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing non-loopback server %q", server)
	}
	return nil
}

// compareServers asks both servers every distinct query over TCP and
// compares rcodes and answer sections (TTLs and order aside).
func compareServers(a, b, queryFile string) error {
	for _, s := range []string{a, b} {
		if err := checkLoopback(s); err != nil {
			return err
		}
	}
	msgs, err := readQueries(queryFile)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	c := &mdns.Client{Net: "tcp", Timeout: 2 * time.Second}
	compared := 0
	for _, wire := range msgs {
		q := new(mdns.Msg)
		if err := q.Unpack(wire); err != nil {
			return err
		}
		if k := q.Question[0].String(); seen[k] {
			continue
		} else {
			seen[k] = true
		}
		var got [2]string
		for i, s := range []string{a, b} {
			r, _, err := c.Exchange(q, s)
			if err != nil {
				return fmt.Errorf("asking %s %v: %w", s, q.Question[0], err)
			}
			var rrs []string
			for _, rr := range r.Answer {
				rr.Header().Ttl = 0
				rrs = append(rrs, strings.ToLower(rr.String()))
			}
			slices.Sort(rrs)
			got[i] = mdns.RcodeToString[r.Rcode] + " " + strings.Join(rrs, " | ")
		}
		if got[0] != got[1] {
			return fmt.Errorf("%v differs:\n  %s: %s\n  %s: %s", q.Question[0], a, got[0], b, got[1])
		}
		compared++
	}
	fmt.Printf("compared %d distinct queries: identical rcodes and answers\n", compared)
	return nil
}

func run(server, queryFile string, concurrency int, duration, timeout time.Duration, label string) error {
	if err := checkLoopback(server); err != nil {
		return err
	}
	msgs, err := readQueries(queryFile)
	if err != nil {
		return err
	}
	type workerResult struct {
		lat            []time.Duration
		timeouts, errs int
		rcodes         map[int]int
	}
	results := make([]workerResult, concurrency)
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			r.rcodes = map[int]int{}
			conn, err := net.Dial("udp", server)
			if err != nil {
				r.errs++
				return
			}
			defer conn.Close()
			buf := make([]byte, 65535)
			qbuf := make([]byte, 0, 512)
			id := uint16(w << 10)
			for i := w; time.Now().Before(deadline); i += concurrency {
				q := append(qbuf[:0], msgs[i%len(msgs)]...) // our own copy: we set its ID
				id++
				q[0], q[1] = byte(id>>8), byte(id)
				t0 := time.Now()
				if _, err := conn.Write(q); err != nil {
					r.errs++
					continue
				}
				conn.SetReadDeadline(t0.Add(timeout))
				for {
					n, err := conn.Read(buf)
					if err != nil {
						var ne net.Error
						if errors.As(err, &ne) && ne.Timeout() {
							r.timeouts++
						} else {
							r.errs++
						}
						break
					}
					if n < 12 || buf[0] != byte(id>>8) || buf[1] != byte(id) {
						continue // a late answer to a timed-out query
					}
					r.lat = append(r.lat, time.Since(t0))
					r.rcodes[int(buf[3]&0xF)]++
					break
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	res := result{Server: label, Concurrency: concurrency, Seconds: elapsed.Seconds(), Rcodes: map[string]int{}}
	for _, r := range results {
		all = append(all, r.lat...)
		res.Timeouts += r.timeouts
		res.Errors += r.errs
		for rc, n := range r.rcodes {
			res.Rcodes[mdns.RcodeToString[rc]] += n
		}
	}
	return report(res, all, elapsed)
}

// report fills in the percentiles and prints the result as JSON.
func report(res result, all []time.Duration, elapsed time.Duration) error {
	if len(all) == 0 {
		return fmt.Errorf("no answers from %s (%d timeouts, %d errors)", res.Server, res.Timeouts, res.Errors)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Nanoseconds()) / 1e3
	}
	res.Queries = len(all)
	res.QPS = float64(len(all)) / elapsed.Seconds()
	res.P50us, res.P90us, res.P99us, res.P999us = pct(0.50), pct(0.90), pct(0.99), pct(0.999)
	res.MaxUs = float64(all[len(all)-1].Nanoseconds()) / 1e3
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// readQueries packs every "name TYPE" line of a dnsperf query file.
func readQueries(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading queries: %w", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		qt, ok := mdns.StringToType[strings.ToUpper(fields[1])]
		if !ok {
			return nil, fmt.Errorf("reading queries: unknown type %q", fields[1])
		}
		m := new(mdns.Msg)
		m.SetQuestion(mdns.Fqdn(fields[0]), qt)
		wire, err := m.Pack()
		if err != nil {
			return nil, fmt.Errorf("packing %s: %w", fields[0], err)
		}
		out = append(out, wire)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading queries: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("reading queries: none")
	}
	return out, nil
}

// runOpenLoop sends rate queries per second spread over `sockets` sockets,
// on a 1 ms tick, without waiting for answers, and times each answer by its
// ID. Queries unanswered within timeout count as timeouts. Unlike the closed
// loop, the offered load is the same whatever the server's speed, so two
// servers' latencies compare at equal load.
func runOpenLoop(server, queryFile string, sockets, rate int, duration, timeout time.Duration, label string) error {
	if err := checkLoopback(server); err != nil {
		return err
	}
	msgs, err := readQueries(queryFile)
	if err != nil {
		return err
	}
	type sock struct {
		conn   net.Conn
		mu     sync.Mutex
		sentAt [65536]time.Time // by query ID; zero once answered
		lat    []time.Duration
		rcodes map[int]int
		errs   int
	}
	socks := make([]*sock, sockets)
	for i := range socks {
		conn, err := net.Dial("udp", server)
		if err != nil {
			return err
		}
		defer conn.Close()
		socks[i] = &sock{conn: conn, rcodes: map[int]int{}}
	}
	start := time.Now()
	stopSend := start.Add(duration)
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Add(1)
		go func() { // receiver
			defer wg.Done()
			buf := make([]byte, 65535)
			for {
				s.conn.SetReadDeadline(time.Now().Add(timeout))
				n, err := s.conn.Read(buf)
				now := time.Now()
				if err != nil {
					if now.After(stopSend.Add(timeout)) || errors.Is(err, net.ErrClosed) {
						return
					}
					var ne net.Error
					if !errors.As(err, &ne) || !ne.Timeout() {
						s.mu.Lock()
						s.errs++
						s.mu.Unlock()
					}
					continue
				}
				if n < 12 {
					continue
				}
				id := uint16(buf[0])<<8 | uint16(buf[1])
				s.mu.Lock()
				if t0 := s.sentAt[id]; !t0.IsZero() {
					s.lat = append(s.lat, now.Sub(t0))
					s.rcodes[int(buf[3]&0xF)]++
					s.sentAt[id] = time.Time{}
				}
				s.mu.Unlock()
			}
		}()
	}
	// Sender: on each 1 ms tick, send the queries due by then.
	sent, seq := 0, 0
	q := make([]byte, 0, 512)
	tick := time.NewTicker(time.Millisecond)
	for now := range tick.C {
		if now.After(stopSend) {
			break
		}
		due := int(float64(rate) * now.Sub(start).Seconds())
		for ; sent < due; sent++ {
			s := socks[sent%sockets]
			q = append(q[:0], msgs[seq%len(msgs)]...)
			seq++
			id := uint16(sent / sockets)
			q[0], q[1] = byte(id>>8), byte(id)
			s.mu.Lock()
			s.sentAt[id] = time.Now()
			s.mu.Unlock()
			if _, err := s.conn.Write(q); err != nil {
				s.mu.Lock()
				s.errs++
				s.mu.Unlock()
			}
		}
	}
	tick.Stop()
	wg.Wait()
	res := result{Server: label, Concurrency: sockets, Rate: rate, Seconds: duration.Seconds(), Rcodes: map[string]int{}}
	var all []time.Duration
	for _, s := range socks {
		all = append(all, s.lat...)
		res.Errors += s.errs
		for rc, n := range s.rcodes {
			res.Rcodes[mdns.RcodeToString[rc]] += n
		}
	}
	res.Timeouts = sent - len(all)
	return report(res, all, duration)
}
