package commands

import (
	"context"
	"os"

	"github.com/slipway/slipway/internal/routerbench"
)

// BenchRouter compares the router with a direct call and with HAProxy on
// loopback (needs wrk and haproxy: apt-get install wrk haproxy).
func BenchRouter(ctx context.Context) error {
	dir, err := ModuleDir()
	if err != nil {
		return err
	}
	return routerbench.Run(ctx, routerbench.Options{ModuleDir: dir}, os.Stdout)
}
