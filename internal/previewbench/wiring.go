package previewbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/itest"
)

// This file repeats, call for call, the few lines of package commands the
// benchmark runs (Tester, Routing, Docker, ModuleDir): commands wires the
// mage targets, bench:preview among them, so importing it here would make
// an import cycle.

// tester runs the integration tests as commands.Tester does.
type tester struct {
	moduleDir string
	log       io.Writer
}

func (x tester) Test(ctx context.Context, t deploy.TestTarget) (deploy.TestResult, error) {
	res, err := itest.Run(ctx, x.moduleDir, itest.Target{
		BaseURL: t.BaseURL, Host: t.Host, ExpectCommit: t.Commit, ExpectStack: t.Stack, StackHeader: t.StackHeader,
	}, x.log)
	if err != nil {
		return deploy.TestResult{}, err
	}
	return deploy.TestResult{Passed: res.Passed, Failed: res.Failed, OK: res.OK(), Summary: res.Summary()}, nil
}

// routing is commands.Routing: the router on 127.0.0.1, routed by Host.
type routing struct{ cfg config.Config }

func (r routing) PreviewHost(label string) string { return r.cfg.PreviewHost(label) }
func (r routing) ProductionHost() string          { return r.cfg.ProductionHost() }
func (r routing) URL(host string) string          { return r.cfg.URL(host) }
func (r routing) Dial(host string) (string, string) {
	return fmt.Sprintf("http://127.0.0.1:%d", r.cfg.RouterPort), host
}

// dockerClient connects to the local engine as commands.Docker does.
func dockerClient(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("connect to Docker: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		_ = cli.Close() // nothing was opened on the engine
		return nil, fmt.Errorf("connect to Docker: %w (the benchmark needs a running Docker engine: start Docker, or set DOCKER_HOST)", err)
	}
	return cli, nil
}

// moduleDir finds the directory of Slipway's go.mod from the working
// directory upwards.
func moduleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find working directory: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("find go.mod: run the benchmark from inside the Slipway checkout, or set ModuleDir")
		}
	}
}
