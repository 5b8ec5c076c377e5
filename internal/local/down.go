package local

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
)

// Down removes every container, network and volume labelled with app, and
// nothing else. Running it when nothing is there succeeds.
func Down(ctx context.Context, d Downer, app string, log io.Writer) error {
	f := appFilter(app)
	cs, err := d.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list containers of %s: %w", app, err)
	}
	for _, c := range cs {
		fmt.Fprintf(log, "down: removing container %s\n", fromSummary(c).Name)
		if err := d.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil {
			return fmt.Errorf("remove container %s: %w", fromSummary(c).Name, err)
		}
	}
	ns, err := d.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list networks of %s: %w", app, err)
	}
	for _, n := range ns {
		fmt.Fprintf(log, "down: removing network %s\n", n.Name)
		if err := d.NetworkRemove(ctx, n.ID); err != nil {
			return fmt.Errorf("remove network %s: %w", n.Name, err)
		}
	}
	vs, err := d.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list volumes of %s: %w", app, err)
	}
	for _, v := range vs.Volumes {
		fmt.Fprintf(log, "down: removing volume %s\n", v.Name)
		if err := d.VolumeRemove(ctx, v.Name, true); err != nil {
			return fmt.Errorf("remove volume %s: %w", v.Name, err)
		}
	}
	fmt.Fprintf(log, "down: %d containers, %d networks, %d volumes of %s removed\n", len(cs), len(ns), len(vs.Volumes), app)
	return nil
}

// Downer is what Down needs from Docker.
type Downer interface {
	ContainerList(ctx context.Context, o container.ListOptions) ([]container.Summary, error)
	ContainerRemove(ctx context.Context, id string, o container.RemoveOptions) error
	NetworkList(ctx context.Context, o network.ListOptions) ([]network.Summary, error)
	NetworkRemove(ctx context.Context, id string) error
	VolumeList(ctx context.Context, o volume.ListOptions) (volume.ListResponse, error)
	VolumeRemove(ctx context.Context, id string, force bool) error
}
