package image

import (
	"fmt"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// ByDigest returns repo@dgst, the reference that names exactly one
// manifest. dgst must be a valid sha256 digest ("sha256:" and 64 lower-case
// hex digits).
func ByDigest(repo, dgst string) (string, error) {
	named, err := parseRepo(repo)
	if err != nil {
		return "", err
	}
	d, err := digest.Parse(dgst)
	if err != nil {
		return "", fmt.Errorf("reference %s by digest %q: %w", repo, dgst, err)
	}
	if d.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("reference %s by digest %q: algorithm %s, want sha256", repo, dgst, d.Algorithm())
	}
	ref, err := reference.WithDigest(named, d)
	if err != nil {
		return "", fmt.Errorf("reference %s by digest %q: %w", repo, dgst, err)
	}
	return ref.String(), nil
}

// parseRepo checks that repo is a canonical repository name: lower case,
// with its registry host, no tag and no digest.
func parseRepo(repo string) (reference.Named, error) {
	named, err := reference.ParseNamed(repo)
	if err != nil {
		return nil, fmt.Errorf("parse repository %q: %w", repo, err)
	}
	if !reference.IsNameOnly(named) {
		return nil, fmt.Errorf("parse repository %q: has a tag or digest", repo)
	}
	return named, nil
}
