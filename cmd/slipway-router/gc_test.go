package main

import "testing"

func TestNextGCMode(t *testing.T) {
	tests := map[string]struct {
		tuned bool
		live  uint64
		want  bool
	}{
		"a small heap keeps the tuned settings":            {true, 4 << 20, true},
		"a heap above half the limit lifts them":           {true, liftAbove + 1, false},
		"a heap between the bounds stays on the defaults":  {false, 8 << 20, false},
		"a heap back under a quarter of the limit retunes": {false, restoreBelow - 1, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := nextGCMode(tc.tuned, tc.live); got != tc.want {
				t.Fatalf("nextGCMode(%v, %d) = %v, want %v", tc.tuned, tc.live, got, tc.want)
			}
		})
	}
}
