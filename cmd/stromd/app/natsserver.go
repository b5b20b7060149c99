package app

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// natsAuth authenticates every client of the embedded NATS server and
// gives each user what it needs and no more (nats-server's custom client
// authentication, so that node users need no list: a node's password is
// derived from its name, see Credentials.NodePassword).
//
//   - stromd: everything; only stromd may publish event subjects, so every
//     change goes through the write path.
//   - admin: the API as admin, the node API of every node (logs, exec,
//     images, port-forward), the stream read-only (`strom log export`),
//     the node feeds and heartbeats (hollow nodes run with the admin's
//     config).
//   - node:<name>: the API as system:node:<name> (the node authorizer
//     decides each request), its own node API and feed subjects, its own
//     stdin subjects, its own heartbeat key; never the raw event log.
//   - join: the join verb only.
//
// Every user may subscribe only under its own inbox prefix
// (api.InboxPrefix), so no one reads replies meant for another; agents
// publish stream chunks to the inboxes their requests name.
type natsAuth struct {
	// sha256 of the fixed users' passwords: the server holds no plain
	// password of them.
	stromd, admin, join [sha256.Size]byte
	creds               *Credentials
}

func newNATSAuth(c *Credentials) *natsAuth {
	return &natsAuth{stromd: sha256.Sum256([]byte(c.Stromd)), admin: sha256.Sum256([]byte(c.Admin)),
		join: sha256.Sum256([]byte(c.JoinToken)), creds: c}
}

func passwordIs(want [sha256.Size]byte, got string) bool {
	h := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(want[:], h[:]) == 1
}

// Check implements server.Authentication.
func (a *natsAuth) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if o == nil {
		return false
	}
	user, pw := o.Username, o.Password
	var perms *server.Permissions
	switch user {
	case "stromd":
		if !passwordIs(a.stromd, pw) {
			return false
		}
	case api.AdminUser:
		if !passwordIs(a.admin, pw) {
			return false
		}
		perms = adminPermissions()
	case api.JoinUser:
		if !passwordIs(a.join, pw) {
			return false
		}
		perms = joinPermissions()
	default:
		node, ok := api.NodeOfUser(user)
		if !ok || api.NodeUser(node) != user {
			return false
		}
		want := sha256.Sum256([]byte(a.creds.NodePassword(node)))
		if !passwordIs(want, pw) {
			return false
		}
		perms = nodePermissions(node)
	}
	c.RegisterUser(&server.User{Username: user, Permissions: perms})
	return true
}

// jsRead reads the event stream and its consumers (the admin's `strom log
// export` and direct gets).
var jsRead = []string{
	"$JS.API.INFO", "$JS.API.STREAM.INFO.>", "$JS.API.STREAM.LIST", "$JS.API.STREAM.NAMES",
	"$JS.API.CONSUMER.CREATE.>", "$JS.API.CONSUMER.INFO.>", "$JS.API.CONSUMER.DELETE.>",
	"$JS.API.CONSUMER.LIST.>", "$JS.API.CONSUMER.NAMES.>", "$JS.API.CONSUMER.MSG.NEXT.>",
	"$JS.API.DIRECT.GET.>", "$JS.API.STREAM.MSG.GET.>", "$JS.ACK.>",
}

// replies lets a user answer the requests it received (acknowledging a
// stream chunk, a node answering an exec) without a publish permission on
// the requester's inbox.
var replies = &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute}

func adminPermissions() *server.Permissions {
	pub := []string{api.SubjectPrefix + ".*." + api.AdminUser, "$SRV.>",
		"strom.node.*.logs", "strom.node.*.exec", "strom.node.*.images", "strom.node.*.portforward", api.StdinPrefix + ">",
		"$JS.API.STREAM.SNAPSHOT." + events.StreamName, "$JS.SNAPSHOT.ACK." + events.StreamName + ".>",
		// hollow nodes: heartbeats
		"$KV." + events.LeaseBucket + ".>", "$JS.API.STREAM.INFO.KV_" + events.LeaseBucket}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: append(pub, jsRead...), Deny: []string{events.SubjectPrefix + ".>"}},
		Subscribe: &server.SubjectPermission{Allow: []string{api.InboxPrefix(api.AdminUser) + ".>", "strom.node.>"}},
		Response:  replies,
	}
}

func nodePermissions(node string) *server.Permissions {
	user, tok := api.NodeUser(node), events.EncodeToken(node)
	return &server.Permissions{
		Publish: &server.SubjectPermission{
			Allow: []string{api.SubjectPrefix + ".*." + user,
				"_INBOX.>", // stream chunks to the inbox a request named
				"$KV." + events.LeaseBucket + "." + events.LeaseKey(node), "$JS.API.STREAM.INFO.KV_" + events.LeaseBucket},
			Deny: []string{events.SubjectPrefix + ".>"},
		},
		Subscribe: &server.SubjectPermission{Allow: []string{api.InboxPrefix(user) + ".>",
			"strom.node." + tok + ".>", api.ServiceFeedSubject, api.StdinPrefix + tok + ".>"}},
		Response: replies,
	}
}

func joinPermissions() *server.Permissions {
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{api.Subject(api.VerbJoin, api.JoinUser)}},
		Subscribe: &server.SubjectPermission{Allow: []string{api.InboxPrefix(api.JoinUser) + ".>"}},
	}
}

// startNATS starts the embedded server and waits until it serves.
func startNATS(cfg *Config, creds *Credentials, log *zap.Logger) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: bad port", cfg.Listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:                 cfg.NodeName + "-stromd",
		Host:                       host,
		Port:                       port,
		JetStream:                  true,
		StoreDir:                   filepath.Join(cfg.DataDir, "jetstream"),
		CustomClientAuthentication: newNATSAuth(creds),
		MaxPayload:                 8 << 20,
		NoSigs:                     true,
		JetStreamMaxStore:          cfg.MaxStore,
		SyncAlways:                 cfg.fsyncMode() == FsyncAlways,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configuring NATS: %w", err)
	}
	s.SetLoggerV2(&natsLogger{log: log.Named("nats").Sugar()}, false, false, false)
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not start listening on %s within 30s", cfg.Listen)
	}
	return s, nil
}

// natsLogger sends the embedded server's logs to zap.
type natsLogger struct{ log *zap.SugaredLogger }

func (l *natsLogger) Noticef(f string, a ...any) { l.log.Debugf(f, a...) }
func (l *natsLogger) Warnf(f string, a ...any)   { l.log.Warnf(f, a...) }
func (l *natsLogger) Fatalf(f string, a ...any)  { l.log.Errorf(f, a...) }
func (l *natsLogger) Errorf(f string, a ...any)  { l.log.Errorf(f, a...) }
func (l *natsLogger) Debugf(f string, a ...any)  { l.log.Debugf(f, a...) }
func (l *natsLogger) Tracef(f string, a ...any)  {}
