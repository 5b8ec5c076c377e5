package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/opencontainers/go-digest"
)

// Auth holds explicit registry credentials. Nothing is read from the
// Docker CLI's config or credential helpers.
type Auth struct {
	Username, Password string
	ServerAddress      string // defaults to the registry host of the pushed reference
}

// encode returns the X-Registry-Auth header value: registry.AuthConfig as
// base64url JSON.
func (a Auth) encode(named reference.Named) (string, error) {
	server := a.ServerAddress
	if server == "" {
		server = reference.Domain(named)
	}
	enc, err := registry.EncodeAuthConfig(registry.AuthConfig{
		Username: a.Username, Password: a.Password, ServerAddress: server,
	})
	if err != nil {
		return "", fmt.Errorf("encode credentials for %s: %w", server, err)
	}
	return enc, nil
}

// Push pushes the local image ref (repo:tag) with auth, writes one progress
// line per layer and status change, and returns the digest of the manifest
// the registry stored (sha256:...). An error reported inside the push
// stream, such as rejected credentials, is returned as a *StreamError.
func Push(ctx context.Context, e Engine, ref string, auth Auth, progress io.Writer) (dgst string, err error) {
	named, tag, err := parseTagged(ref)
	if err != nil {
		return "", err
	}
	op := "push image " + ref
	header, err := auth.encode(named)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	body, err := e.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: header})
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	defer closeInto(&err, body, "push stream")
	p := newPushProgress(orDiscard(progress))
	err = decodeStream(body, op, func(m message) error {
		if len(m.Aux) > 0 {
			d, err := pushedDigest(m.Aux, tag)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if d != "" {
				dgst = d
			}
		}
		return p.show(m)
	})
	if err != nil {
		return "", err
	}
	if dgst == "" {
		return "", errors.New(op + ": the daemon reported no manifest digest")
	}
	return dgst, nil
}

// parseTagged checks that ref is a canonical repo:tag reference without a
// digest and returns its name and tag.
func parseTagged(ref string) (reference.Named, string, error) {
	named, err := reference.ParseNamed(ref)
	if err != nil {
		return nil, "", fmt.Errorf("parse image reference %q: %w", ref, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return nil, "", fmt.Errorf("parse image reference %q: push a tag, not a digest", ref)
	}
	tagged, ok := named.(reference.Tagged)
	if !ok {
		return nil, "", fmt.Errorf("parse image reference %q: no tag", ref)
	}
	return named, tagged.Tag(), nil
}

// pushedDigest reads the push result {"Tag","Digest","Size"} from aux. It
// returns "" for an aux message about another tag.
func pushedDigest(aux json.RawMessage, tag string) (string, error) {
	var r struct {
		Tag    string
		Digest string
	}
	if err := json.Unmarshal(aux, &r); err != nil {
		return "", fmt.Errorf("decode push result %s: %w", aux, err)
	}
	if r.Digest == "" || (r.Tag != "" && r.Tag != tag) {
		return "", nil
	}
	d, err := digest.Parse(r.Digest)
	if err != nil {
		return "", fmt.Errorf("parse pushed digest %q: %w", r.Digest, err)
	}
	return d.String(), nil
}
