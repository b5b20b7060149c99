package app

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// natsPermissions gives each user what it needs and no more. Only stromd
// may publish event subjects: every change goes through the write path.
// Passwords are given to the server as bcrypt hashes, so the server holds
// no plain-text password in memory or in its config.
func natsUsers(c *Credentials) ([]*server.User, error) {
	hash := func(pw string) (string, error) {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		return string(h), err
	}
	jsRead := []string{
		"$JS.API.INFO", "$JS.API.STREAM.INFO.>", "$JS.API.STREAM.LIST", "$JS.API.STREAM.NAMES",
		"$JS.API.CONSUMER.CREATE.>", "$JS.API.CONSUMER.INFO.>", "$JS.API.CONSUMER.DELETE.>",
		"$JS.API.CONSUMER.LIST.>", "$JS.API.CONSUMER.NAMES.>", "$JS.API.CONSUMER.MSG.NEXT.>",
		"$JS.API.DIRECT.GET.>", "$JS.API.STREAM.MSG.GET.>", "$JS.ACK.>",
	}
	client := func(name, pw string, extraPub ...string) *server.User {
		pub := append([]string{api.SubjectPrefix + ".*." + name, "$SRV.>", "strom.node.*.logs", "strom.node.*.exec", "strom.node.*.images", "strom.stdin.>"}, jsRead...)
		pub = append(pub, extraPub...)
		return &server.User{
			Username: name, Password: pw,
			Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: pub, Deny: []string{events.SubjectPrefix + ".>"}},
				Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>", "strom.node.>", "strom.stdin.>"}},
				// Replying to a request received (e.g. acknowledging a log
				// chunk) is allowed; publishing to others' inboxes is not.
				Response: &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
			},
		}
	}
	users := []*server.User{
		{Username: "stromd", Password: c.Stromd}, // full access
		// The admin may also snapshot the event stream: `strom log
		// export` reads large ranges that way (projections/export_snapshot.go).
		client("admin", c.Admin, "$JS.API.STREAM.SNAPSHOT."+events.StreamName, "$JS.SNAPSHOT.ACK."+events.StreamName+".>"),
		// Agents stream logs and exec output to clients' inboxes.
		client("agent", c.Agent, "$KV."+events.LeaseBucket+".>", "$JS.API.STREAM.INFO.KV_"+events.LeaseBucket, "_INBOX.>"),
	}
	for _, u := range users {
		h, err := hash(u.Password)
		if err != nil {
			return nil, fmt.Errorf("hashing password of %s: %w", u.Username, err)
		}
		u.Password = h
	}
	return users, nil
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
	users, err := natsUsers(creds)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName:        cfg.NodeName + "-stromd",
		Host:              host,
		Port:              port,
		JetStream:         true,
		StoreDir:          filepath.Join(cfg.DataDir, "jetstream"),
		Users:             users,
		MaxPayload:        8 << 20,
		NoSigs:            true,
		JetStreamMaxStore: cfg.MaxStore,
		SyncAlways:        cfg.FsyncAlways,
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
