package local

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/client"
)

// Connect connects to the local Docker engine, negotiating the API version
// (Debian's engine speaks 1.41), and checks that it answers.
func Connect(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("connect to Docker: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		_ = cli.Close() // nothing was opened on the engine
		return nil, fmt.Errorf("connect to Docker: %w (the local target needs a running Docker engine: start Docker, or set DOCKER_HOST)", err)
	}
	return cli, nil
}
