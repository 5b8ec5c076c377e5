package image_test

import (
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/image"
)

const repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway/app"

func TestTags(t *testing.T) {
	tests := map[string]struct {
		repo, sha, purpose string
		want               []string // nil: an error
	}{
		"a full sha is cut to seven digits": {
			repo, "0123456789abcdef0123456789abcdef01234567", "pr-42",
			[]string{repo + ":0123456", repo + ":pr-42"},
		},
		"a seven-digit sha is used as is": {
			"127.0.0.1:5000/hello", "abcdef0", "main",
			[]string{"127.0.0.1:5000/hello:abcdef0", "127.0.0.1:5000/hello:main"},
		},
		"a short sha is refused":                 {repo, "abc123", "pr-42", nil},
		"an upper-case sha is refused":           {repo, "ABCDEF0123", "pr-42", nil},
		"a sha that is not hex is refused":       {repo, "main-branch", "pr-42", nil},
		"a purpose that is not a tag is refused": {repo, "abcdef0", "pr/42", nil},
		"an empty purpose is refused":            {repo, "abcdef0", "", nil},
		"a purpose of 129 characters is refused": {
			repo, "abcdef0", strings.Repeat("a", 129), nil,
		},
		"a repository with a tag is refused":       {repo + ":latest", "abcdef0", "pr-42", nil},
		"a repository without its host is refused": {"slipway/app", "abcdef0", "pr-42", nil},
		"an upper-case repository name is refused": {"127.0.0.1:5000/Hello", "abcdef0", "pr-42", nil},
		"an empty repository is refused":           {"", "abcdef0", "pr-42", nil},
		"a repository with a digest is refused":    {repo + "@sha256:" + strings.Repeat("a", 64), "abcdef0", "x", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := image.Tags(tc.repo, tc.sha, tc.purpose)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("Tags(%q, %q, %q) = %v, want an error", tc.repo, tc.sha, tc.purpose, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Tags: %v", err)
			}
			if !equalStrings(got, tc.want) {
				t.Errorf("Tags = %v, want %v", got, tc.want)
			}
		})
	}
}

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
