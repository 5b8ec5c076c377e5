package manifest

import "testing"

// BenchmarkLoad is what the manifest adds to a target's start: finding
// slipway.yaml from a directory and loading the largest example (every
// key, paths checked on disk). Issue 17 allows 50 ms.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		path, err := Find("testdata/examples/node-shop/db/migrations")
		if err != nil || path == "" {
			b.Fatalf("Find: %q, %v", path, err)
		}
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
