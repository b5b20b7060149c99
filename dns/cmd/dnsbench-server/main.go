// Command dnsbench-server loads a synthetic cluster (services, headless
// services with endpoints) into a Strom DNS store and serves it, and writes
// the same records as a zone file for CoreDNS's file plugin plus a query
// file for dnsperf and dnsload, so both servers answer identical data.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	mdns "github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/strom-project/strom/dns"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dnsbench-server:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "", "serve on this address (host:port); empty: do not serve")
	services := flag.Int("services", 1000, "ClusterIP services")
	headless := flag.Int("headless", 100, "headless services")
	endpoints := flag.Int("endpoints", 5, "ready endpoints per headless service")
	namespaces := flag.Int("namespaces", 10, "namespaces the services spread over")
	zoneFile := flag.String("zone-file", "", "write the cluster zone as a zone file here")
	queryFile := flag.String("query-file", "", "write a dnsperf query file here")
	nxEvery := flag.Int("nx-every", 20, "one query in this many is for a name that does not exist")
	workers := flag.Int("udp-workers", 0, "UDP reader goroutines (0: GOMAXPROCS)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the serving time here")
	flag.Parse()

	store, err := dns.NewStore(dns.StoreConfig{})
	if err != nil {
		return err
	}
	if err := load(store, *services, *headless, *endpoints, *namespaces); err != nil {
		return err
	}
	if *zoneFile != "" {
		if err := writeZone(store, *zoneFile); err != nil {
			return err
		}
	}
	if *queryFile != "" {
		if err := writeQueries(*queryFile, *services, *headless, *namespaces, *nxEvery); err != nil {
			return err
		}
	}
	if *addr == "" {
		return nil
	}
	log, err := zap.NewProduction()
	if err != nil {
		return err
	}
	// Upstreams are never used by the benchmark: every query is in the zone.
	srv, err := dns.NewServer(dns.Config{Addr: *addr, Store: store, Logger: log, UDPWorkers: *workers, Upstreams: []string{"127.0.0.1:9"}})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	fmt.Println("listening on", srv.Addr())
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	<-ctx.Done()
	srv.Stop()
	return nil
}

func ns(i, namespaces int) string { return fmt.Sprintf("ns%d", i%namespaces) }

// load fills the store: service i gets clusterIP 10.96.x.y and ports http
// and grpc; headless service j gets endpoints 10.2xx.x.y with hostnames.
func load(store *dns.Store, services, headless, endpoints, namespaces int) error {
	for i := range services {
		svc := dns.Service{Namespace: ns(i, namespaces), Name: fmt.Sprintf("svc%d", i), Type: dns.TypeClusterIP,
			ClusterIPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)})},
			Ports:      []dns.Port{{Name: "http", Protocol: "TCP", Port: 80}, {Name: "grpc", Protocol: "TCP", Port: 9090}}}
		if err := store.UpsertService(svc); err != nil {
			return err
		}
	}
	for j := range headless {
		n, name := ns(j, namespaces), fmt.Sprintf("hl%d", j)
		if err := store.UpsertService(dns.Service{Namespace: n, Name: name, Type: dns.TypeClusterIP, Headless: true}); err != nil {
			return err
		}
		var addrs []dns.Address
		for k := range endpoints {
			idx := j*endpoints + k
			addrs = append(addrs, dns.Address{IP: netip.AddrFrom4([4]byte{10, byte(200 + idx>>16), byte(idx >> 8), byte(idx)}),
				Hostname: fmt.Sprintf("%s-%d", name, k)})
		}
		if err := store.UpsertEndpoints(dns.Endpoints{Namespace: n, Name: name, Subsets: []dns.Subset{{
			Addresses: addrs, Ports: []dns.Port{{Name: "http", Protocol: "TCP", Port: 8080}}}}}); err != nil {
			return err
		}
	}
	return nil
}

// writeZone writes the records of the cluster zone (not the reverse names).
func writeZone(store *dns.Store, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing zone file: %w", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "$ORIGIN %s\n", store.Zone())
	for _, rr := range store.Records() {
		if !mdns.IsSubDomain(store.Zone(), rr.Header().Name) {
			continue
		}
		fmt.Fprintln(w, rr.String())
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing zone file: %w", err)
	}
	return f.Close()
}

// writeQueries writes a deterministic mix: A of ClusterIP services, A of
// headless services, SRV of both, and a few names that do not exist.
func writeQueries(path string, services, headless, namespaces, nxEvery int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing query file: %w", err)
	}
	w := bufio.NewWriter(f)
	for i := range 10000 {
		s := i % max(services, 1)
		h := i % max(headless, 1)
		switch {
		case nxEvery > 0 && i%nxEvery == nxEvery-1:
			fmt.Fprintf(w, "missing%d.%s.svc.cluster.local A\n", i, ns(i, namespaces))
		case i%10 < 6 && services > 0:
			fmt.Fprintf(w, "svc%d.%s.svc.cluster.local A\n", s, ns(s, namespaces))
		case i%10 < 7 && headless > 0:
			fmt.Fprintf(w, "hl%d.%s.svc.cluster.local A\n", h, ns(h, namespaces))
		case i%10 < 9 && services > 0:
			fmt.Fprintf(w, "_http._tcp.svc%d.%s.svc.cluster.local SRV\n", s, ns(s, namespaces))
		case headless > 0:
			fmt.Fprintf(w, "_http._tcp.hl%d.%s.svc.cluster.local SRV\n", h, ns(h, namespaces))
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing query file: %w", err)
	}
	return f.Close()
}
