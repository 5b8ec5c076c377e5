package local

import (
	"context"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
)

// Down removes every container, network and volume labelled with app, and
// nothing else; with keepData the database server's data volume stays
// (production, golden and preview databases), and is said so. Running it
// when nothing is there succeeds.
func Down(ctx context.Context, d Downer, app string, keepData bool, log io.Writer) error {
	f := appFilter(app)
	cs, err := d.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list containers of %s: %w", app, err)
	}
	for _, c := range cs {
		if c.Labels[LabelRole] == roleDatabase {
			fmt.Fprintf(log, "down: removing container %s: the database server\n", fromSummary(c).Name)
		} else {
			fmt.Fprintf(log, "down: removing container %s\n", fromSummary(c).Name)
		}
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
	removed := 0
	for _, v := range vs.Volumes {
		if v.Labels[LabelRole] == roleDatabase && keepData {
			fmt.Fprintf(log, "down: keeping volume %s: the database's data (production, golden and preview databases); `go run mage.go local:down -deleteData` deletes it\n", v.Name)
			continue
		}
		removed++
		if v.Labels[LabelRole] == roleDatabase {
			fmt.Fprintf(log, "down: removing volume %s: the database server's data (production, golden and preview databases) is deleted\n", v.Name)
		} else {
			fmt.Fprintf(log, "down: removing volume %s\n", v.Name)
		}
		if err := d.VolumeRemove(ctx, v.Name, true); err != nil {
			return fmt.Errorf("remove volume %s: %w", v.Name, err)
		}
	}
	fmt.Fprintf(log, "down: %s, %s, %s of %s removed\n", count(len(cs), "container"), count(len(ns), "network"), count(removed, "volume"), app)
	return nil
}

// RemoveImages removes every tag of the image repository repo (the app's
// :<sha7>, :pr-N, :branch-… tags pile up as previews are deployed). Docker
// deletes an image's layers only when no other image uses them, so shared
// layers stay. A tag still used by a container (of another app sharing the
// repository) is kept and said so. Running it when nothing is there
// succeeds.
func RemoveImages(ctx context.Context, d ImageRemover, repo string, log io.Writer) error {
	list, err := d.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", repo))})
	if err != nil {
		return fmt.Errorf("list images of %s: %w", repo, err)
	}
	removed := 0
	for _, im := range list {
		for _, tag := range im.RepoTags {
			if !strings.HasPrefix(tag, repo+":") {
				continue
			}
			_, err := d.ImageRemove(ctx, tag, image.RemoveOptions{PruneChildren: true})
			switch {
			case err == nil:
				removed++
			case cerrdefs.IsNotFound(err):
			case cerrdefs.IsConflict(err):
				fmt.Fprintf(log, "down: keeping image %s: a container still uses it\n", tag)
			default:
				return fmt.Errorf("remove image %s: %w", tag, err)
			}
		}
	}
	fmt.Fprintf(log, "down: %s of %s removed (layers other images use are kept)\n", count(removed, "image tag"), repo)
	return nil
}

// ImageRemover is what RemoveImages needs from Docker.
type ImageRemover interface {
	ImageList(ctx context.Context, o image.ListOptions) ([]image.Summary, error)
	ImageRemove(ctx context.Context, ref string, o image.RemoveOptions) ([]image.DeleteResponse, error)
}

// count says "1 network" or "2 networks".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
