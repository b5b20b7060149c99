package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/cmd/stromd/apiserver"
	"github.com/strom-project/strom/cmd/stromd/kubeapi"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/alloc"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/podsecurity"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/projections/nodefeed"
	"github.com/strom-project/strom/projections/servicefeed"
	"github.com/strom-project/strom/reconcilers/leader"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Version is stromd's version, set at build time.
var Version = "0.1.0-dev"

// Config configures stromd.
type Config struct {
	DataDir string
	Listen  string // embedded NATS listen address (host:port; port 0 picks one)
	// APIListen is where the Kubernetes HTTPS API listens (host:port; port
	// 0 picks one); "" serves none.
	APIListen string

	// An external NATS server or cluster instead of the embedded one.
	NATSURL      string
	NATSCreds    string
	NATSUser     string
	NATSPassword string
	// The node agents' own NATS user on an external NATS (agent.conf);
	// it must differ from stromd's. Without one, no agent.conf is written.
	AgentNATSCreds    string
	AgentNATSUser     string
	AgentNATSPassword string

	NodeName      string
	NoAgent       bool
	Replicas      int    // event stream replicas; 0: 1 on one server, the cluster's size up to 3 on a NATS cluster
	SnapshotEvery uint64 // events between projection snapshots
	// Fsync is when acknowledged writes reach the disk of the embedded
	// server: FsyncGroup (default, ""), FsyncAlways or FsyncInterval; see
	// groupsync.go. With NATSURL it is the NATS servers' own setting.
	Fsync string
	// FsyncAlways is the older --fsync-always: Fsync "always".
	FsyncAlways bool
	MaxStore    int64 // JetStream storage cap; 0: server default

	ClusterCIDR string // pod addresses; each node gets a /24 of it
	ServiceCIDR string // ClusterIPs
	// ClusterDNS is the cluster DNS address pods use (each node agent
	// serves it on its pod bridge; see agent/services.go), for
	// `strom cluster-info`.
	ClusterDNS string
	// NoControllers runs no reconcilers (a standby-only or read-only stromd).
	NoControllers bool
	// Reconcilers overrides the built-in reconcilers (tests).
	Reconcilers func(env manager.Env) ([]manager.Reconciler, error)

	// Time travel (docs/bench/timetravel.md). Retention bounds the log
	// by age and size (0: unlimited); snapshots are also written every
	// SnapshotInterval (default: RetentionAge/8, at most 1h) so that
	// objects older than the window survive in a snapshot. Replay serves
	// a read-only API from an export file instead of a live log; its
	// Secrets are opened with ReplayKey (a key file) if given.
	RetentionAge     time.Duration
	RetentionSize    int64
	SnapshotInterval time.Duration
	Replay           string
	ReplayKey        string

	Logger *zap.Logger
	Clock  clock.PassiveClock
	// Agent runs the node agent in-process unless NoAgent is set.
	Agent AgentFunc
}

// AgentFunc runs a node agent until ctx ends.
type AgentFunc func(ctx context.Context, env AgentEnv) error

// AgentEnv is what an in-process agent is given.
type AgentEnv struct {
	Conn     *nats.Conn
	Client   *api.Client
	NodeName string
	Logger   *zap.Logger
	// ServiceCIDR and ClusterCIDR are the cluster's (services issue).
	ServiceCIDR, ClusterCIDR string
}

// Stromd is a running control plane.
type Stromd struct {
	// ClusterID names the cluster of the log (events.ClusterIDKey), also
	// kept in <data-dir>/cluster-id.
	ClusterID  string
	stopOnce   sync.Once
	cfg        Config
	log        *zap.Logger
	ns         *server.Server // nil with an external NATS
	groupSync  *groupSync     // group commit; nil unless embedded with --fsync=group
	nc         *nats.Conn
	js         jetstream.JetStream
	writer     *events.Writer
	proj       *projections.Projection
	api        *apiserver.NATS
	connOpts   []nats.Option
	extra      []*nats.Conn // the write path's extra connections
	cancel     context.CancelFunc
	agentDone  chan error
	leaderDone chan struct{}
	stopLeader context.CancelFunc

	// URL is where clients connect; AdminConfig the admin.conf path.
	URL         string
	AdminConfig string
	AgentConfig string
	// JoinToken is <data-dir>/join-token: what `strom-agent --token`
	// needs to join (embedded NATS only).
	JoinToken string
	creds     *Credentials
	// KubeAPI is the Kubernetes HTTPS API's address and Kubeconfig the
	// admin kubeconfig written for it (both "" without --api-listen).
	KubeAPI    string
	Kubeconfig string
	kubeDone   chan struct{}
}

func (c *Config) defaults() {
	if c.DataDir == "" {
		c.DataDir = api.DefaultDataDir
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:4222"
	}
	if c.NodeName == "" {
		c.NodeName, _ = os.Hostname()
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 10000
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.ClusterCIDR == "" {
		c.ClusterCIDR = "10.42.0.0/16"
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = "10.43.0.0/16"
	}
	if c.ClusterDNS == "" {
		c.ClusterDNS = "each node's pod-bridge gateway (the first address of its pod CIDR), port 53"
	}
	if c.Reconcilers == nil {
		c.Reconcilers = builtinReconcilers(c)
	}
}

// Start brings the control plane up and returns once it serves: streams
// exist, the projection has caught up, the API answers, admin.conf is
// written.
func Start(ctx context.Context, cfg Config) (_ *Stromd, err error) {
	cfg.defaults()
	log := cfg.Logger
	if _, err := ParseFsync(cfg.Fsync); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	if cfg.Replay != "" {
		return startReplay(ctx, cfg) // time travel: read-only, from a file
	}
	ctx, cancel := context.WithCancel(ctx)
	d := &Stromd{cfg: cfg, log: log, cancel: cancel,
		AdminConfig: filepath.Join(cfg.DataDir, "admin.conf"),
		AgentConfig: filepath.Join(cfg.DataDir, "agent.conf"), JoinToken: filepath.Join(cfg.DataDir, "join-token")}
	defer func() {
		if err != nil {
			d.Stop()
		}
	}()
	creds, err := d.connect()
	d.creds = creds
	if err != nil {
		return nil, err
	}
	clustered, servers := false, 1
	if cfg.NATSURL != "" {
		clustered, servers = clusterOf(d.nc)
	}
	var warning string
	cfg.Replicas, warning = replicasFor(cfg.Replicas, clustered, servers)
	d.cfg.Replicas = cfg.Replicas
	if warning != "" {
		log.Warn(warning, zap.String("nats", d.URL))
	}
	log.Info("event log replicas", zap.Int("replicas", cfg.Replicas), zap.Bool("clustered", clustered), zap.Int("servers", servers))
	idFile := filepath.Join(cfg.DataDir, "cluster-id")
	dirID, err := readClusterID(idFile)
	if err != nil {
		return nil, err
	}
	clusterID, err := events.EnsureStreams(ctx, d.js, events.StreamOptions{Replicas: cfg.Replicas, MaxAge: cfg.RetentionAge, MaxBytes: cfg.RetentionSize, ClusterID: dirID})
	if err != nil {
		return nil, err
	}
	if dirID == "" {
		if err := writeClusterID(idFile, clusterID); err != nil {
			return nil, err
		}
	}
	d.ClusterID = clusterID
	key, err := events.LoadOrCreateKey(filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return nil, err
	}
	sealer, err := events.NewSealer(key)
	if err != nil {
		return nil, err
	}
	pool, err := d.writerPool(3)
	if err != nil {
		return nil, err
	}
	if d.proj, err = projections.New(ctx, projections.Config{JetStream: d.js, Sealer: sealer, Logger: log.Named("projection"), SnapshotEvery: cfg.SnapshotEvery}); err != nil {
		return nil, err
	}
	view := func(resource, ns, name string) ([]byte, uint64, bool) {
		st := d.proj.Store()
		if st == nil {
			return nil, 0, false
		}
		e, ok := st.Get(resource, ns, name)
		if !ok {
			return nil, 0, false
		}
		return e.Data, e.Seq, true
	}
	// Service allocation is a rule of the write path: every writer's
	// Service write is allocated, every Service removal released.
	services, err := alloc.NewServiceAllocator(ctx, d.js, cfg.ServiceCIDR, cfg.Replicas, cfg.Clock)
	if err != nil {
		return nil, err
	}
	// So is Pod Security admission (namespace labels choose the level).
	podSecurity, err := podsecurity.New(viewCluster{d.proj})
	if err != nil {
		return nil, err
	}
	// After the streams and buckets the write path uses exist: group
	// commit first syncs their metadata.
	if err := d.setUpDurability(); err != nil {
		return nil, err
	}
	var durable func(context.Context) error
	if d.groupSync != nil {
		durable = d.groupSync.Sync
	}
	if d.writer, err = events.NewWriter(ctx, events.WriterConfig{JetStream: d.js, Pool: pool, Sealer: sealer, Clock: cfg.Clock, Logger: log.Named("writer"), View: view,
		Admission: []events.Admission{services, podSecurity}, Durable: durable}); err != nil {
		return nil, err
	}
	if err := d.proj.Start(ctx); err != nil {
		return nil, fmt.Errorf("building projection: %w", err)
	}
	go d.proj.RunSnapshotTimer(ctx, cfg.snapshotInterval()) // time travel: retention
	if cfg.RetentionAge > 0 || cfg.RetentionSize > 0 {
		go d.proj.RunRefresher(ctx, d.writer, cfg.Clock, cfg.snapshotInterval())
	}
	if err := d.bootstrap(ctx); err != nil {
		return nil, err
	}
	coreCfg := apiserver.Config{
		Writer: d.writer, Projection: d.proj, Logger: log.Named("api"), Now: cfg.Clock.Now,
		Info: api.ClusterInfo{Version: Version, NATS: d.URL, DNS: cfg.ClusterDNS, ServiceCIDR: cfg.ServiceCIDR},
	}
	var kube *kubeapi.Server
	if cfg.APIListen != "" {
		// The listener and the kubeconfig exist before the core, which
		// answers cluster-info and the kubeconfig verb with them.
		if kube, err = d.prepareKubeAPI(); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil && d.kubeDone == nil {
				kube.Close() // not serving: free the port
			}
		}()
		coreCfg.Info.KubeAPI, coreCfg.Kubeconfig = "https://"+d.KubeAPI, d.Kubeconfig
	}
	if creds != nil {
		coreCfg.NodeCredential = func(node string) (string, error) { return creds.NodePassword(node), nil }
	}
	core := apiserver.NewCore(coreCfg)
	if d.api, err = apiserver.ServeNATS(ctx, d.nc, core, apiserver.NATSOptions{}); err != nil {
		return nil, err
	}
	if kube != nil {
		if err := d.serveKubeAPI(ctx, kube, core); err != nil {
			return nil, err
		}
	}
	go nodefeed.Run(ctx, d.proj.Store(), d.nc, log.Named("nodefeed"))
	go servicefeed.Run(ctx, d.proj.Store(), d.nc, log.Named("servicefeed"))
	if !cfg.NoControllers {
		env := manager.Env{Store: d.proj.Store(), Writer: d.writer, Clock: cfg.Clock, Logger: log.Named("controllers")}
		rs, err := cfg.Reconcilers(env)
		if err != nil {
			return nil, fmt.Errorf("building reconcilers: %w", err)
		}
		d.leaderDone = make(chan struct{})
		leaderCtx, leaderCancel := context.WithCancel(ctx)
		d.stopLeader = leaderCancel
		go func() {
			defer close(d.leaderDone)
			_ = leader.Run(leaderCtx, leader.Config{JetStream: d.js, Key: "controllers", Identity: cfg.NodeName, Replicas: cfg.Replicas, Logger: log.Named("leader")},
				func(lctx context.Context) {
					m := manager.New(env, manager.Options{})
					for _, r := range rs {
						m.Add(r)
					}
					if err := m.Run(lctx); err != nil && lctx.Err() == nil {
						log.Error("reconcilers stopped", zap.Error(err))
					}
				})
		}()
	}
	if err := d.writeClientConfigs(creds); err != nil {
		return nil, err
	}
	if !cfg.NoAgent && cfg.Agent != nil {
		d.agentDone = make(chan error, 1)
		conn, client, err := d.agentConn()
		if err != nil {
			return nil, err
		}
		env := AgentEnv{Conn: conn, Client: client, NodeName: cfg.NodeName, Logger: log.Named("agent"),
			ServiceCIDR: cfg.ServiceCIDR, ClusterCIDR: cfg.ClusterCIDR}
		go func() { d.agentDone <- superviseAgent(ctx, cfg.Agent, env, agentRetryMin, agentRetryMax) }()
	}
	log.Info("stromd serving", zap.String("nats", d.URL), zap.String("admin_config", d.AdminConfig),
		zap.Uint64("seq", d.proj.Store().LastSeq()))
	return d, nil
}

// connect starts the embedded NATS or dials the external one.
func (d *Stromd) connect() (*Credentials, error) {
	cfg := d.cfg
	var creds *Credentials
	var err error
	if cfg.NATSURL == "" {
		if creds, err = loadOrCreateCredentials(filepath.Join(cfg.DataDir, "credentials.json")); err != nil {
			return nil, err
		}
		if d.ns, err = startNATS(&cfg, creds, d.log); err != nil {
			return nil, err
		}
		d.URL = d.ns.ClientURL()
		d.connOpts = []nats.Option{nats.InProcessServer(d.ns), nats.UserInfo("stromd", creds.Stromd), nats.Name("stromd")}
		d.nc, err = nats.Connect(d.URL, d.connOpts...)
	} else {
		d.URL = cfg.NATSURL
		opts := []nats.Option{nats.Name("stromd"), nats.MaxReconnects(-1)}
		if cfg.NATSCreds != "" {
			opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
		}
		if cfg.NATSUser != "" {
			opts = append(opts, nats.UserInfo(cfg.NATSUser, cfg.NATSPassword))
		}
		d.connOpts = opts
		d.nc, err = nats.Connect(cfg.NATSURL, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS %s: %w", d.URL, err)
	}
	if d.js, err = jetstream.New(d.nc); err != nil {
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	return creds, nil
}

// agentConn is the in-process agent's connection: with the embedded NATS
// its node's own credential, so it gets exactly what a node agent on
// another machine gets (the node authorizer decides its requests);
// on an external NATS, stromd's.
func (d *Stromd) agentConn() (*nats.Conn, *api.Client, error) {
	if d.creds == nil {
		return d.nc, api.NewClient(d.nc, "stromd"), nil
	}
	user := api.NodeUser(d.cfg.NodeName)
	nc, err := nats.Connect(d.URL, nats.InProcessServer(d.ns), nats.UserInfo(user, d.creds.NodePassword(d.cfg.NodeName)),
		nats.CustomInboxPrefix(api.InboxPrefix(user)), nats.Name("strom-agent "+d.cfg.NodeName), nats.MaxReconnects(-1))
	if err != nil {
		return nil, nil, fmt.Errorf("connecting the node agent as %s: %w", user, err)
	}
	d.extra = append(d.extra, nc)
	return nc, api.NewClient(nc, user), nil
}

// writerPool opens n more connections for the write path.
func (d *Stromd) writerPool(n int) ([]jetstream.JetStream, error) {
	var out []jetstream.JetStream
	for i := 0; i < n; i++ {
		nc, err := nats.Connect(d.URL, d.connOpts...)
		if err != nil {
			return nil, fmt.Errorf("connecting the write path: %w", err)
		}
		d.extra = append(d.extra, nc)
		js, err := jetstream.New(nc)
		if err != nil {
			return nil, err
		}
		out = append(out, js)
	}
	return out, nil
}

// bootstrap creates the namespaces that exist from the start.
func (d *Stromd) bootstrap(ctx context.Context) error {
	for _, name := range []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
		_, err := d.writer.Create(ctx, ns, events.WriteOptions{Actor: "system:stromd", Cause: "bootstrap"})
		if err != nil && !events.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	return nil
}

func (d *Stromd) writeClientConfigs(creds *Credentials) error {
	// The API's subscriptions must be in place on the server before a
	// client can find admin.conf: a flush is a round trip behind them.
	if d.nc != nil {
		if err := d.nc.Flush(); err != nil {
			return fmt.Errorf("flushing API subscriptions: %w", err)
		}
	}
	admin := &api.Config{Server: d.URL, User: "admin"}
	var agent *api.Config
	switch {
	case creds != nil:
		admin.Password = creds.Admin
		// This machine's node: its own credential, never the server's.
		agent = &api.Config{Server: d.URL, User: api.NodeUser(d.cfg.NodeName), Password: creds.NodePassword(d.cfg.NodeName)}
		if d.JoinToken != "" { // a replay takes no nodes
			if err := writeFileAtomic(d.JoinToken, []byte(creds.JoinToken+"\n")); err != nil {
				return fmt.Errorf("writing the join token: %w", err)
			}
		}
	default:
		if d.cfg.NATSCreds != "" {
			admin.CredsFile = d.cfg.NATSCreds
		} else if d.cfg.NATSUser != "" {
			admin.User, admin.Password = d.cfg.NATSUser, d.cfg.NATSPassword
		}
		var err error
		if agent, err = d.externalAgentConfig(); err != nil {
			return err
		}
	}
	if agent != nil {
		if err := api.WriteConfig(d.AgentConfig, agent); err != nil {
			return err
		}
	}
	return api.WriteConfig(d.AdminConfig, admin)
}

// externalAgentConfig is agent.conf on an external NATS: the agents' own
// user (--agent-nats-user or --agent-nats-creds), refused when it is
// stromd's, which may publish event subjects and so bypass the write
// path. Without one there is no agent.conf (and an old one is removed).
func (d *Stromd) externalAgentConfig() (*api.Config, error) {
	c := d.cfg
	switch {
	case c.AgentNATSCreds != "":
		if c.AgentNATSCreds == c.NATSCreds {
			return nil, events.Errorf(events.ReasonInvalid, "--agent-nats-creds: the agents' credentials must not be stromd's (%s): with them a node could write the event log directly", c.NATSCreds)
		}
		return &api.Config{Server: d.URL, User: "agent", CredsFile: c.AgentNATSCreds}, nil
	case c.AgentNATSUser != "":
		if c.AgentNATSUser == c.NATSUser {
			return nil, events.Errorf(events.ReasonInvalid, "--agent-nats-user: the agents' user must not be stromd's (%q): with it a node could write the event log directly", c.NATSUser)
		}
		return &api.Config{Server: d.URL, User: c.AgentNATSUser, Password: c.AgentNATSPassword}, nil
	}
	d.log.Warn("no agent.conf written: on an external NATS give the node agents a NATS user of their own (--agent-nats-user or --agent-nats-creds)")
	if err := os.Remove(d.AgentConfig); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("removing the old agent.conf: %w", err)
	}
	return nil, nil
}

// NodeConfig is a client config for node name's own credential (tests
// run hollow nodes with it; `strom-agent --token` gets the same through
// the join verb). Only with the embedded NATS.
func (d *Stromd) NodeConfig(name string) (*api.Config, error) {
	if d.creds == nil {
		return nil, fmt.Errorf("node credentials are issued only by an embedded NATS")
	}
	return &api.Config{Server: d.URL, User: api.NodeUser(name), Password: d.creds.NodePassword(name)}, nil
}

// Writer is the write path (for in-process controllers and tests).
func (d *Stromd) Writer() *events.Writer { return d.writer }

// Projection is the live projection.
func (d *Stromd) Projection() *projections.Projection { return d.proj }

// Conn is stromd's own NATS connection.
func (d *Stromd) Conn() *nats.Conn { return d.nc }

// JetStream is stromd's JetStream context.
func (d *Stromd) JetStream() jetstream.JetStream { return d.js }

// Stop shuts down in order: API, agent, projection, NATS. Everything
// acknowledged is already in the stream. Calling it again does nothing.
func (d *Stromd) Stop() { d.stopOnce.Do(d.stop) }

func (d *Stromd) stop() {
	if d.api != nil {
		d.api.Stop()
	}
	// Reconcilers drain first, while the projection they read still
	// follows the log; the lease is released for a standby.
	if d.stopLeader != nil {
		d.stopLeader()
		<-d.leaderDone
	}
	d.cancel()
	if d.kubeDone != nil {
		<-d.kubeDone
	}
	if d.agentDone != nil {
		select {
		case err := <-d.agentDone:
			if err != nil && !errors.Is(err, context.Canceled) {
				d.log.Warn("agent stopped", zap.Error(err))
			}
		case <-time.After(45 * time.Second):
			d.log.Warn("agent did not stop within 45s")
		}
	}
	if d.leaderDone != nil {
		<-d.leaderDone
	}
	for _, nc := range d.extra {
		nc.Close()
	}
	if d.nc != nil {
		_ = d.nc.Drain()
		d.nc.Close()
	}
	if d.groupSync != nil {
		d.groupSync.Close()
	}
	if d.ns != nil {
		d.ns.Shutdown()
		d.ns.WaitForShutdown()
	}
}
