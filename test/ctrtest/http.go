package ctrtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	cnins "github.com/containernetworking/plugins/pkg/ns"
)

// HTTPGetIn does an HTTP GET with the socket created inside the network
// namespace at nsPath (a test's node namespace) and returns the body; a
// status other than 200 is an error.
func HTTPGetIn(nsPath, url string) (string, error) {
	client := &http.Client{
		Timeout: 3 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var conn net.Conn
				err := cnins.WithNetNSPath(nsPath, func(cnins.NetNS) error {
					var err error
					d := net.Dialer{Timeout: 2 * time.Second}
					conn, err = d.DialContext(ctx, network, addr)
					return err
				})
				return conn, err
			},
		},
	}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %s", resp.Status)
	}
	return string(b), err
}
