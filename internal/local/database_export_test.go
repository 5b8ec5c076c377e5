package local

import "context"

// EnsureDBImage exposes ensureDBImage to the tests of the pull: the server
// that would start from the pulled image is what the other tests cover.
func EnsureDBImage(ctx context.Context, p *Provider, image string) error {
	return p.ensureDBImage(ctx, image)
}
