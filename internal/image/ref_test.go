package image_test

import (
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/image"
)

const repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway/app"

func TestByDigest(t *testing.T) {
	hex := "2b7e20b65d443cb3509c0c0811fef721b1370142a4e854208f3ae3d232475207"
	tests := map[string]struct {
		repo, digest, want string // want "": an error
	}{
		"a sha256 digest is appended after @":      {repo, "sha256:" + hex, repo + "@sha256:" + hex},
		"a digest without algorithm is refused":    {repo, hex, ""},
		"an upper-case digest is refused":          {repo, "sha256:" + strings.ToUpper(hex), ""},
		"a truncated digest is refused":            {repo, "sha256:" + hex[:63], ""},
		"a sha512 digest is refused":               {repo, "sha512:" + strings.Repeat("a", 128), ""},
		"an empty digest is refused":               {repo, "", ""},
		"a repository with a tag is refused":       {repo + ":pr-42", "sha256:" + hex, ""},
		"a repository without its host is refused": {"app", "sha256:" + hex, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := image.ByDigest(tc.repo, tc.digest)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("ByDigest(%q, %q) = %q, want an error", tc.repo, tc.digest, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ByDigest: %v", err)
			}
			if got != tc.want {
				t.Errorf("ByDigest = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzByDigest(f *testing.F) {
	f.Add(repo, "sha256:"+strings.Repeat("0", 64))
	f.Add("127.0.0.1:5000/a", "sha256:xyz")
	f.Fuzz(func(t *testing.T, repo, digest string) {
		ref, err := image.ByDigest(repo, digest)
		if err != nil {
			return
		}
		if ref != repo+"@"+digest {
			t.Errorf("ByDigest(%q, %q) = %q, want repo@digest unchanged", repo, digest, ref)
		}
	})
}
