package agent

// The service side of a real node: the iptables service proxy
// (agent/proxy) and a node-local cluster DNS server (dns), both fed with
// every Service and Endpoints of the cluster from the service feed
// (projections/servicefeed) plus a periodic list. The service CIDR is
// routed to the pod bridge so that traffic to a ClusterIP from the node
// itself is DNATed instead of leaving the machine. DNS listens on the
// bridge's gateway address (the first address of the node's pod CIDR),
// which pods reach directly and the node can query.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	cnins "github.com/containernetworking/plugins/pkg/ns"
	"github.com/nats-io/nats.go"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/agent/network"
	"github.com/strom-project/strom/agent/proxy"
	"github.com/strom-project/strom/dns"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// ServicesConfig turns on the service proxy and node-local DNS of a real
// node (RealConfig.Services).
type ServicesConfig struct {
	ServiceCIDR string // routed to the bridge; default 10.43.0.0/16
	ClusterCIDR string // pod addresses; traffic from elsewhere is masqueraded; default 10.42.0.0/16
	// NodeIP, when set, is written as the ingress of LoadBalancer
	// Services that have none.
	NodeIP string
	// NoDNS turns the node-local DNS server off.
	NoDNS bool
	// DNSPort is the DNS port on the gateway address; default 53.
	DNSPort int
	// DNSUpstreams resolve names outside the cluster zone; default the
	// node's /etc/resolv.conf.
	DNSUpstreams []string
	Resync       time.Duration // full list of Services and Endpoints; default 30 s
	// Proxy tunes the proxier (MinSyncInterval, FullSyncInterval).
	Proxy proxy.ProxierConfig
	// ProxyMode is proxy.ModeIPTables (default) or proxy.ModeNFTables.
	ProxyMode string
}

func (c *ServicesConfig) defaults() {
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = "10.43.0.0/16"
	}
	if c.ClusterCIDR == "" {
		c.ClusterCIDR = "10.42.0.0/16"
	}
	if c.DNSPort == 0 {
		c.DNSPort = 53
	}
	if c.Resync == 0 {
		c.Resync = 30 * time.Second
	}
	if c.ProxyMode == "" {
		c.ProxyMode = proxy.ModeIPTables
	}
}

// services is the running service side of one node.
type services struct {
	cfg    ServicesConfig
	log    *zap.Logger
	client *api.Client
	px     *proxy.Proxier
	dns    *dns.Store // nil without DNS

	mu   sync.Mutex
	svcs map[string]*corev1.Service
	eps  map[string]*corev1.Endpoints
	seq  map[string]uint64 // "resource/ns/name" → newest sequence applied
}

// startServices starts the proxy and DNS for node and returns the DNS
// address pods should use (empty without DNS).
func startServices(ctx context.Context, rc RealConfig, node *corev1.Node, netm *network.Manager, client *api.Client) (string, error) {
	cfg := *rc.Services
	cfg.defaults()
	log := rc.Logger.Named("services")
	if err := netm.RouteToBridge(cfg.ServiceCIDR); err != nil {
		return "", err
	}
	cluster, err := netip.ParsePrefix(cfg.ClusterCIDR)
	if err != nil {
		return "", fmt.Errorf("cluster CIDR %q: %w", cfg.ClusterCIDR, err)
	}
	pc := cfg.Proxy
	pc.PodCIDR = cluster
	pc.LocalhostNodePorts = true
	if local, err := netip.ParsePrefix(node.Spec.PodCIDR); err == nil {
		pc.LocalPodCIDR = local
	}
	px, err := newProxier(cfg.ProxyMode, rc.HostNetNS, pc, log)
	if err != nil {
		return "", err
	}
	s := &services{cfg: cfg, log: log, client: client, px: px,
		svcs: map[string]*corev1.Service{}, eps: map[string]*corev1.Endpoints{}, seq: map[string]uint64{}}
	dnsAddr := ""
	if !cfg.NoDNS {
		if dnsAddr, err = s.startDNS(ctx, rc, node); err != nil {
			return "", err
		}
	}
	// Subscribe before listing so no change falls between the two.
	sub, err := rc.Conn.Subscribe(api.ServiceFeedSubject, func(m *nats.Msg) { s.onFeed(ctx, m) })
	if err != nil {
		return "", fmt.Errorf("subscribing to the service feed: %w", err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	go s.px.Run(ctx)
	go s.resyncLoop(ctx)
	log.Info("service proxy started", zap.String("mode", cfg.ProxyMode), zap.String("serviceCIDR", cfg.ServiceCIDR), zap.String("dns", dnsAddr))
	return dnsAddr, nil
}

// newProxier builds the proxier of the chosen mode and removes what the
// other mode may have left on the node (a switch of --proxy-mode), so the
// two never both program services.
func newProxier(mode, netnsPath string, pc proxy.ProxierConfig, log *zap.Logger) (*proxy.Proxier, error) {
	ipt, err := proxy.NewExecRunner(proxy.ExecOptions{NetnsPath: netnsPath})
	if err != nil {
		return nil, err
	}
	switch mode {
	case proxy.ModeIPTables:
		if nft, err := proxy.NewExecNFT(netnsPath); err == nil {
			if err := proxy.CleanupNFT(nft); err != nil {
				log.Warn("could not remove the nftables proxy table", zap.Error(err))
			}
		}
		return proxy.NewProxier(ipt, pc, log.Named("proxy"), nil), nil
	case proxy.ModeNFTables:
		nft, err := proxy.NewExecNFT(netnsPath)
		if err != nil {
			return nil, err
		}
		if err := proxy.Cleanup(ipt); err != nil {
			log.Warn("could not remove the iptables proxy rules", zap.Error(err))
		}
		return proxy.NewNFTProxier(nft, pc, log.Named("proxy"), nil), nil
	}
	return nil, proxy.CheckMode(mode)
}

// startDNS gives the bridge its gateway address (the bridge plugin keeps
// an identical one) and serves DNS on it inside the node's netns.
func (s *services) startDNS(ctx context.Context, rc RealConfig, node *corev1.Node) (string, error) {
	gw, err := network.Gateway(node.Spec.PodCIDR)
	if err != nil {
		return "", err
	}
	_, subnet, _ := net.ParseCIDR(node.Spec.PodCIDR)
	bridge := rc.BridgeName
	if bridge == "" {
		bridge = "strom0"
	}
	store, err := dns.NewStore(dns.StoreConfig{})
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort(gw.String(), strconv.Itoa(s.cfg.DNSPort))
	upstreams := s.cfg.DNSUpstreams
	srv, err := dns.NewServer(dns.Config{Addr: addr, Store: store, Upstreams: upstreams, Logger: s.log.Named("dns")})
	if err != nil {
		return "", err
	}
	start := func() error {
		link, err := netlink.LinkByName(bridge)
		if err != nil {
			return fmt.Errorf("looking up bridge %s: %w", bridge, err)
		}
		a := &netlink.Addr{IPNet: &net.IPNet{IP: gw, Mask: subnet.Mask}}
		if err := netlink.AddrReplace(link, a); err != nil {
			return fmt.Errorf("adding %s to %s: %w", a, bridge, err)
		}
		return srv.Start(ctx) // binds now: the sockets stay in this netns
	}
	if rc.HostNetNS != "" {
		err = cnins.WithNetNSPath(rc.HostNetNS, func(cnins.NetNS) error { return start() })
	} else {
		err = start()
	}
	if err != nil {
		return "", fmt.Errorf("starting node DNS on %s: %w", addr, err)
	}
	s.dns = store
	return gw.String(), nil
}

func objKey(ns, name string) string { return ns + "/" + name }

// onFeed applies one feed message, skipping stale ones.
func (s *services) onFeed(ctx context.Context, m *nats.Msg) {
	var msg api.ServiceFeedMessage
	if err := json.Unmarshal(m.Data, &msg); err != nil {
		s.log.Warn("bad service feed message", zap.Error(err))
		return
	}
	k := objKey(msg.Namespace, msg.Name)
	s.mu.Lock()
	if msg.Seq <= s.seq[msg.Resource+"/"+k] {
		s.mu.Unlock()
		return
	}
	s.seq[msg.Resource+"/"+k] = msg.Seq
	deleted := msg.Type == events.TypeDeleted
	var lb *corev1.Service
	switch msg.Resource {
	case "services":
		if deleted {
			delete(s.svcs, k)
			break
		}
		var svc corev1.Service
		if err := json.Unmarshal(msg.Object, &svc); err != nil {
			s.mu.Unlock()
			s.log.Warn("bad service in feed", zap.Error(err))
			return
		}
		s.svcs[k] = &svc
		lb = &svc
	case "endpoints":
		if deleted {
			delete(s.eps, k)
			break
		}
		var ep corev1.Endpoints
		if err := json.Unmarshal(msg.Object, &ep); err != nil {
			s.mu.Unlock()
			s.log.Warn("bad endpoints in feed", zap.Error(err))
			return
		}
		s.eps[k] = &ep
	default:
		s.mu.Unlock()
		return
	}
	s.pushLocked(msg.Namespace, msg.Name)
	s.mu.Unlock()
	if lb != nil {
		s.ensureIngress(ctx, lb)
	}
}

// pushLocked hands one service's current state to the proxy and DNS.
func (s *services) pushLocked(ns, name string) {
	k := objKey(ns, name)
	svc, ep := s.svcs[k], s.eps[k]
	s.px.OnServiceUpdate(ns, name, proxy.FromService(svc, ep))
	if s.dns != nil {
		s.pushDNSLocked(ns, name)
	}
}

func (s *services) resyncLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.Resync)
	defer t.Stop()
	for {
		s.resync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// resync lists every Service and Endpoints and replaces the state with
// them, keeping feed entries newer than the list.
func (s *services) resync(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	svcResp, err := s.client.ListAll(lctx, api.Request{Resource: "services", AllNamespaces: true})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("listing services", zap.Error(err))
		}
		return
	}
	epResp, err := s.client.ListAll(lctx, api.Request{Resource: "endpoints", AllNamespaces: true, MinSeq: svcResp.Seq})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("listing endpoints", zap.Error(err))
		}
		return
	}
	var lbs []*corev1.Service
	s.mu.Lock()
	touched := map[string]bool{}
	for k := range s.svcs {
		touched[k] = true
	}
	for k := range s.eps {
		touched[k] = true
	}
	svcs := map[string]*corev1.Service{}
	for _, item := range svcResp.Items {
		var svc corev1.Service
		if json.Unmarshal(item, &svc) == nil {
			svcs[objKey(svc.Namespace, svc.Name)] = &svc
		}
	}
	eps := map[string]*corev1.Endpoints{}
	for _, item := range epResp.Items {
		var ep corev1.Endpoints
		if json.Unmarshal(item, &ep) == nil {
			eps[objKey(ep.Namespace, ep.Name)] = &ep
		}
	}
	s.svcs = mergeListed(s.svcs, svcs, s.seq, "services", svcResp.Seq)
	s.eps = mergeListed(s.eps, eps, s.seq, "endpoints", epResp.Seq)
	var all []proxy.ServicePort
	for k, svc := range s.svcs {
		touched[k] = true
		all = append(all, proxy.FromService(svc, s.eps[k])...)
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			lbs = append(lbs, svc)
		}
	}
	for k := range s.eps {
		touched[k] = true
	}
	s.px.Update(all)
	if s.dns != nil {
		for k := range touched {
			ns, name := events.SplitObjectKey(k)
			s.pushDNSLocked(ns, name)
		}
	}
	s.mu.Unlock()
	for _, svc := range lbs {
		s.ensureIngress(ctx, svc)
	}
}

func (s *services) pushDNSLocked(ns, name string) {
	store := s.dns
	k := objKey(ns, name)
	if svc := s.svcs[k]; svc == nil {
		_ = store.DeleteService(ns, name)
	} else if d, err := dns.FromService(svc); err == nil {
		if err := store.UpsertService(d); err != nil {
			s.log.Warn("DNS records of service", zap.String("service", k), zap.Error(err))
		}
	}
	if ep := s.eps[k]; ep == nil {
		_ = store.DeleteEndpoints(ns, name)
	} else if d, err := dns.FromEndpoints(ep); err == nil {
		if err := store.UpsertEndpoints(d); err != nil {
			s.log.Warn("DNS records of endpoints", zap.String("service", k), zap.Error(err))
		}
	}
}

// mergeListed replaces cur with listed, except for objects the feed has
// shown at a sequence newer than the list (kept as they are, or kept
// deleted).
func mergeListed[T interface{ GetResourceVersion() string }](cur, listed map[string]T, seq map[string]uint64, resource string, listSeq uint64) map[string]T {
	out := make(map[string]T, len(listed))
	for k, v := range listed {
		rv := events.SeqOf(v.GetResourceVersion())
		if seq[resource+"/"+k] > rv {
			if c, ok := cur[k]; ok {
				out[k] = c
			}
			continue // deleted by a newer feed message, or newer in cur
		}
		seq[resource+"/"+k] = rv
		out[k] = v
	}
	for k, v := range cur {
		if _, listedToo := listed[k]; !listedToo && seq[resource+"/"+k] > listSeq {
			out[k] = v // created after the list was taken
		}
	}
	return out
}

// ensureIngress sets a LoadBalancer Service's ingress to the node's
// address when it has none (a single-node "load balancer").
func (s *services) ensureIngress(ctx context.Context, svc *corev1.Service) {
	if s.cfg.NodeIP == "" || svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Status.LoadBalancer.Ingress) > 0 {
		return
	}
	next := svc.DeepCopy()
	next.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: s.cfg.NodeIP}}
	data, err := json.Marshal(next)
	if err != nil {
		return
	}
	if _, err := s.client.Do(ctx, api.VerbStatus, &api.Request{Object: data, Namespace: svc.Namespace}); err != nil && !events.IsConflict(err) {
		s.log.Warn("setting load-balancer ingress", zap.String("service", objKey(svc.Namespace, svc.Name)), zap.Error(err))
	}
}
