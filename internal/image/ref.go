package image

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// shortSHALen is how many hex digits of a commit name an image tag.
const shortSHALen = 7

// Tags returns the two references an image is built with: repo tagged with
// the first seven digits of the commit sha, and repo tagged with purpose
// (such as "pr-42" or "main"). repo must be a canonical repository name
// without tag or digest, sha a lower-case hex commit name of at least seven
// digits, and purpose a valid tag.
func Tags(repo, sha, purpose string) ([]string, error) {
	named, err := parseRepo(repo)
	if err != nil {
		return nil, err
	}
	if len(sha) < shortSHALen || strings.Trim(sha, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("tag image %s: commit %q is not lower-case hex of at least %d digits", repo, sha, shortSHALen)
	}
	refs := make([]string, 0, 2)
	for _, tag := range []string{sha[:shortSHALen], purpose} {
		t, err := reference.WithTag(named, tag)
		if err != nil {
			return nil, fmt.Errorf("tag image %s: tag %q: %w", repo, tag, err)
		}
		refs = append(refs, t.String())
	}
	return refs, nil
}

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
