package router

import (
	"reflect"
	"testing"
	"time"
)

// The last_live records across writes: who stamps them, who keeps them and
// who drops them.
func TestLastLiveRecordsAreKeptWhileTheWriterNamesTheStack(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	tg := func(stacks ...string) []Target {
		var out []Target
		for _, s := range stacks {
			out = append(out, Target{Name: s + "-1", Stack: s, URL: "http://" + s + ":8080"})
		}
		return out
	}
	live := func(s string) []Weighted { return []Weighted{{Target: s + "-1", Weight: 1}} }
	rec := func(kv ...any) map[string]time.Time {
		m := map[string]time.Time{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(time.Time)
		}
		return m
	}
	for _, tc := range []struct {
		name       string
		prev, next Table
		want       map[string]time.Time
	}{
		{"a stack with a target keeps its record",
			Table{Targets: tg("a", "b"), Production: live("b"), LastLive: rec("a", t0, "b", t0)},
			Table{Targets: tg("a", "b"), Production: live("b")},
			rec("a", t0, "b", now)},
		{"a stack scaled to zero keeps its record while the writer sends its key back",
			Table{Targets: tg("a", "b"), Production: live("b"), LastLive: rec("a", t0, "b", t0)},
			Table{Targets: tg("b"), Production: live("b"), LastLive: rec("a", t0, "b", t0)},
			rec("a", t0, "b", now)},
		{"the time the writer sends is ignored",
			Table{Targets: tg("b"), Production: live("b"), LastLive: rec("a", t0, "b", t0)},
			Table{Targets: tg("b"), Production: live("b"), LastLive: rec("a", now.Add(time.Hour))},
			rec("a", t0, "b", now)},
		{"a key without a record makes none",
			Table{Targets: tg("b"), Production: live("b"), LastLive: rec("b", t0)},
			Table{Targets: tg("b"), Production: live("b"), LastLive: rec("ghost", now, "b", t0)},
			rec("b", now)},
		{"a stack without targets whose key the writer leaves out is dropped",
			Table{Targets: tg("a", "b"), Production: live("b"), LastLive: rec("a", t0, "b", t0)},
			Table{Targets: tg("b"), Production: live("b"), LastLive: rec("b", t0)},
			rec("b", now)},
		{"a stack live until this write, kept by its key, is stamped now",
			Table{Targets: tg("a", "b"), Production: live("a"), LastLive: rec("a", t0)},
			Table{Targets: tg("b"), Production: live("b"), LastLive: rec("a", t0)},
			rec("a", now, "b", now)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lastLive(tc.prev, tc.next, now); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("last_live %v, want %v", got, tc.want)
			}
		})
	}
}
