// Package kubeapi serves the Kubernetes REST API over HTTPS, so kubectl,
// helm and client-go programs work against Strom unchanged. It is
// k8s.io/apiserver's generic server (discovery, OpenAPI, content
// negotiation incl. protobuf, patch, server-side apply, dry run, field
// validation, watch) with Strom's own rest.Storage: every verb is a call
// of the API core (cmd/stromd/apiserver), the same one the NATS API
// serves, so a write is one event of the write path and a read comes
// from the projections. Nothing is stored twice.
package kubeapi

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/util/sets"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	"k8s.io/apiserver/pkg/server/options"
	"k8s.io/component-base/compatibility"

	"github.com/strom-project/strom/cmd/stromd/apiserver"
	"github.com/strom-project/strom/cmd/stromd/kubeapi/openapi"
)

// KubernetesVersion is the Kubernetes release whose API Strom serves.
const KubernetesVersion = "1.37.2"

// Config configures the HTTPS API.
type Config struct {
	// Core is set by Serve.
	Core *apiserver.Core
	// NodeConn reaches the node agents' own API (logs, exec, port
	// forwarding: events/api/nodeapi.go); nil serves no pod streams.
	NodeConn *nats.Conn
	// Listen is host:port; port 0 picks a free one (tests).
	Listen string
	PKI    *PKI
	Logger *zap.Logger
	// StromVersion is reported as the build's git commit by /version.
	StromVersion string
}

// Server is the HTTPS API: Listen opens its port (so its address is known
// before the core that answers cluster-info exists), Serve serves.
type Server struct {
	cfg Config
	ln  net.Listener
}

// Listen checks the configuration and opens the listener.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--api-listen %q: want host:port: %w", cfg.Listen, err)
	}
	if port, err := strconv.Atoi(portStr); err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("--api-listen %q: bad port", cfg.Listen)
	}
	if net.ParseIP(host) == nil {
		return nil, fmt.Errorf("--api-listen %q: the host must be an IP address", cfg.Listen)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	return &Server{cfg: cfg, ln: ln}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close releases the listener of a server that will not serve.
func (s *Server) Close() { s.ln.Close() }

// Serve builds the generic server over core and serves until ctx ends.
// Errors building it come back at once; serving errors when ctx ends.
func (s *Server) Serve(ctx context.Context, core *apiserver.Core) (wait func() error, err error) {
	run, err := s.build(core)
	if err != nil {
		s.ln.Close()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- run.RunWithContext(ctx) }()
	return func() error { return <-done }, nil
}

func (s *Server) build(core *apiserver.Core) (interface{ RunWithContext(context.Context) error }, error) {
	cfg := s.cfg
	cfg.Core = core
	scheme, codecs, err := newScheme()
	if err != nil {
		return nil, fmt.Errorf("kubernetes API scheme: %w", err)
	}
	gc := genericapiserver.NewConfig(codecs)
	ss := options.NewSecureServingOptions()
	ss.Listener = s.ln
	ss.ServerCert.CertKey.CertFile, ss.ServerCert.CertKey.KeyFile = cfg.PKI.ServingCert, cfg.PKI.ServingKey
	if err := ss.WithLoopback().ApplyTo(&gc.SecureServing, &gc.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("HTTPS serving: %w", err)
	}
	authn, clientCA, err := authenticate(cfg.PKI)
	if err != nil {
		return nil, err
	}
	gc.SecureServing.ClientCA = clientCA
	gc.Authentication.Authenticator = authn
	gc.Authorization.Authorizer = authorizerfactory.NewAlwaysAllowAuthorizer()
	gc.EffectiveVersion = stromVersion{compatibility.NewEffectiveVersionFromString(KubernetesVersion, "", ""), cfg.StromVersion}
	namer := openapinamer.NewDefinitionNamer(scheme)
	gc.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	gc.OpenAPIConfig.Info.Title, gc.OpenAPIConfig.Info.Version = "Kubernetes", "v"+KubernetesVersion
	gc.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	gc.OpenAPIV3Config.Info.Title, gc.OpenAPIV3Config.Info.Version = "Kubernetes", "v"+KubernetesVersion
	gc.ExternalAddress = s.ln.Addr().String()
	// As kube-apiserver: watches and the pod streams are long-running,
	// exempt from the 60 s request timeout and the in-flight limits.
	gc.LongRunningFunc = genericfilters.BasicLongRunningRequestCheck(
		sets.NewString("watch", "proxy"), sets.NewString("attach", "exec", "proxy", "log", "portforward"))
	gs, err := gc.Complete(nil).New("strom-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("building the Kubernetes API server: %w", err)
	}
	if err := install(gs, scheme, codecs, cfg); err != nil {
		return nil, err
	}
	return gs.PrepareRun(), nil
}

// authenticate accepts client certificates the cluster CA signed (user =
// CN, groups = O) and the admin's bearer token; nothing else (a request
// without credentials is refused with 401).
func authenticate(p *PKI) (authenticator.Request, dynamiccertificates.CAContentProvider, error) {
	caPEM, err := os.ReadFile(p.CACert)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the cluster CA: %w", err)
	}
	ca, err := dynamiccertificates.NewStaticCAContent("client-ca", caPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, nil, fmt.Errorf("cluster CA %s: no certificate", p.CACert)
	}
	opts := x509request.DefaultVerifyOptions()
	opts.Roots = pool
	certs := x509request.New(opts, x509request.CommonNameUserConversion)
	token, err := p.AdminToken()
	if err != nil {
		return nil, nil, err
	}
	tokens := bearertoken.New(tokenfile.New(map[string]*user.DefaultInfo{
		token: {Name: adminUser, UID: adminUser, Groups: []string{mastersGroup}},
	}))
	return group.NewAuthenticatedGroupAdder(union.New(certs, tokens)), ca, nil
}

// stromVersion reports Kubernetes' version with Strom's build as its
// commit ("v1.37.2+strom"), a version kubectl and helm parse.
type stromVersion struct {
	compatibility.EffectiveVersion
	build string
}

func (v stromVersion) Info() *apimachineryversion.Info {
	info := v.EffectiveVersion.Info()
	info.GitVersion = "v" + KubernetesVersion + "+strom"
	info.GitCommit = v.build
	info.GitTreeState = "clean"
	if info.BuildDate == "" || info.BuildDate == "1970-01-01T00:00:00Z" {
		info.BuildDate = time.Now().UTC().Format(time.RFC3339)
	}
	return info
}
