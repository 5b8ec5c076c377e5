package build_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/build"
)

// BenchmarkEditToImage times what a one-line change costs before a
// preview can start: the edit of a tracked file, then the app image of the
// dirty checkout, its layers cached, through each way of building it.
//
//	go test -run '^$' -bench EditToImage -benchtime 10x ./internal/build/
func BenchmarkEditToImage(b *testing.B) {
	cli := debianEngine(b)
	tests := []struct {
		name, file string
		repo       func(testing.TB) *repo
		classic    bool
		edit       func(n int64) string
	}{
		{"go-fast-path", "sample-app/zz_edit.go", func(t testing.TB) *repo { return sampleAppRepo(t, "sample-app/zz_edit.go", versionSuffix("")) }, false,
			func(n int64) string { return versionSuffix(fmt.Sprint("-", n)) }},
		{"go-fast-path-classic", "sample-app/zz_edit.go", func(t testing.TB) *repo { return sampleAppRepo(t, "sample-app/zz_edit.go", versionSuffix("")) }, true,
			func(n int64) string { return versionSuffix(fmt.Sprint("-", n)) }},
		{"dockerfile", "keep.txt", dockerAppRepo, false,
			func(n int64) string { return fmt.Sprintln("edit", n) }},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			r := tc.repo(b)
			builder := &build.Builder{Engine: cli, ModuleDir: r.dir, AppImage: "slipway-test/bench-" + tc.name, Classic: tc.classic}
			if tc.file == "keep.txt" {
				builder.Manifest = loadManifest(b, r)
			}
			s7 := r.git("rev-parse", "--short=7", "HEAD")
			b.Cleanup(func() { removeTags(cli, builder.AppImage, s7+"-dirty", "bench") })
			for b.Loop() {
				r.write(tc.file, tc.edit(time.Now().UnixNano())) // never built before: no layer of it is cached
				if _, err := builder.Build(b.Context(), "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
