package naming

import (
	"strings"
	"testing"
	"time"
)

var hostile = []string{
	`zzz";echo${IFS}pwned;#`,
	`$(touch /tmp/x)`,
	strings.Repeat("a", 300),
	strings.Repeat("é", 150),
	"feature/ünïcødé-🚀",
	"",
	"---",
	"internal-thing",
	"UPPER/Case_Branch",
	"a\nb\x00c",
	"../../etc/passwd",
}

func TestStackNames(t *testing.T) {
	at := time.Date(2026, 11, 25, 21, 4, 5, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{"shared stack is app-shared", func() (string, error) { return Shared("shop") }, "shop-shared"},
		{"preview stack carries the PR number", func() (string, error) { return Preview("shop", 42) }, "shop-pr-42"},
		{"release stack is UTC time plus sha7", func() (string, error) { return Release("shop", at, "ABCDEF0123456789") }, "shop-prod-20261125200405-abcdef0"},
		{"preview host label", func() (string, error) { return PreviewHost(7) }, "pr-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBadInputIsRefusedWithWhatToDo(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"app with a shell metacharacter", func() error { _, err := Shared("a;b"); return err }, "SLIPWAY_APP"},
		{"app too long", func() error { _, err := Shared(strings.Repeat("a", 21)); return err }, "SLIPWAY_APP"},
		{"app ending in -pr, inside another app's preview scope", func() error { _, err := Shared("shop-pr"); return err }, "app shop's shop-pr-* stacks, which its IAM roles may change; set SLIPWAY_APP"},
		{"app with a -pr word, inside another app's preview scope", func() error { _, err := Preview("shop-pr-7", 1); return err }, "app shop's shop-pr-*"},
		{"app with a -prod word, inside another app's production scope", func() error { _, err := Shared("a-b-prod"); return err }, "app a-b's a-b-prod-*"},
		{"app named internal: ALB internal-shared", func() error { _, err := Shared("internal"); return err }, `start with "internal-"; set SLIPWAY_APP`},
		{"app starting with internal-", func() error { _, err := Shared("internal-tools"); return err }, "internal-tools-shared"},
		{"PR zero", func() error { _, err := Preview("shop", 0); return err }, "positive"},
		{"sha not hex", func() error { _, err := Release("shop", time.Now(), "$(id)"); return err }, "git SHA"},
		{"empty branch", func() error { _, _, err := BranchPreview("shop", " "); return err }, "check out a branch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v should mention %q", err, tt.want)
			}
		})
	}
}

func TestELBNamesFitAndStayDistinct(t *testing.T) {
	long1 := "shop-prod-20261125200405-abcdef0"
	long2 := "shop-prod-20261125200406-abcdef0"
	for _, n := range []string{"shop-pr-42", long1, long2, "internal-x", "-a-", strings.Repeat("z", 60)} {
		got := ELB(n)
		if !ValidELB(got) {
			t.Errorf("ELB(%q) = %q is not a valid ALB name", n, got)
		}
	}
	if ELB("shop-pr-42") != "shop-pr-42" {
		t.Errorf("a short valid name should be kept: %q", ELB("shop-pr-42"))
	}
	if ELB(long1+"-tg") == ELB(long2+"-tg") {
		t.Errorf("truncated names collide: %q", ELB(long1+"-tg"))
	}
	// Stable across versions: AWS resources created by an older Slipway
	// must keep their names, so this value is pinned.
	if got := ELB(long1 + "-tg"); got != "shop-prod-20261125200405-10077d" {
		t.Errorf("ELB(%q) = %q changed: existing target groups would be orphaned", long1+"-tg", got)
	}
}

func TestShortCommitIsWhatStatusShows(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"6dcb09b5b57875f334f61aebed695e2e4193db5e", "6dcb09b"},
		{"6dcb09b", "6dcb09b"},
		{"abc", "abc"},
		{"", ""},
	} {
		if got := ShortCommit(tt.in); got != tt.want {
			t.Errorf("ShortCommit(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostileBranchesGiveValidDistinctNames(t *testing.T) {
	seen := map[string]string{}
	for _, b := range hostile {
		stack, host, err := BranchPreview("shop", b)
		if strings.TrimSpace(b) == "" {
			if err == nil {
				t.Errorf("empty branch %q should be refused", b)
			}
			continue
		}
		if err != nil {
			t.Fatalf("BranchPreview(%q): %v", b, err)
		}
		if !ValidStack(stack) || !ValidHostLabel(host) {
			t.Errorf("branch %q gave invalid stack %q or host %q", b, stack, host)
		}
		if prev, ok := seen[stack]; ok {
			t.Errorf("branches %q and %q share stack %q", prev, b, stack)
		}
		seen[stack] = b
	}
}

func TestImageTags(t *testing.T) {
	tests := map[string]struct {
		dirty bool
		want  []string
	}{
		"name the clean commit and the purpose":                {false, []string{"127.0.0.1:5000/shop:0123456", "127.0.0.1:5000/shop:pr-42"}},
		"never name the clean commit for a dirty working tree": {true, []string{"127.0.0.1:5000/shop:0123456-dirty", "127.0.0.1:5000/shop:pr-42"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ImageTags("127.0.0.1:5000/shop", "0123456789abcdef", "PR 42", tc.dirty)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("tags %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := ImageTags("r", "abc1234", "!!!", false); err == nil {
		t.Fatal("a purpose with no letters should be refused")
	}
}

// Names that only look like the refused ones are fine.
func TestAppNamesNearTheRefusedOnesAreAccepted(t *testing.T) {
	for _, app := range []string{"shop", "pr", "prod", "pr-shop", "prod-shop", "shop-prs", "shop-pr1", "shop-production", "internals", "my-internal", "shop-br"} {
		if err := ValidateApp(app); err != nil {
			t.Errorf("ValidateApp(%q): %v", app, err)
		}
	}
}

// FuzzAppNames checks that every accepted app name gives a valid load
// balancer name and that no accepted app's stacks fall in another app's
// prefix-scoped stacks (<app>-pr-*, <app>-prod-*).
func FuzzAppNames(f *testing.F) {
	for _, s := range []string{"shop", "shop-pr", "shop-pr-1", "a-prod", "internal", "internal-x", "x-internal"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, app string) {
		if ValidateApp(app) != nil {
			return
		}
		if !ValidELB(app + "-shared") {
			t.Fatalf("app %q: shared load balancer %q is not a valid name", app, app+"-shared")
		}
		stacks := []string{app + "-shared", app + "-pr-1", app + "-prod-20261125200405-abcdef0"}
		words := strings.Split(app, "-")
		for i := 1; i < len(words); i++ {
			other := strings.Join(words[:i], "-")
			for _, s := range stacks {
				if strings.HasPrefix(s, other+"-pr-") || strings.HasPrefix(s, other+"-prod-") {
					t.Fatalf("app %q: stack %s falls in app %s's scope", app, s, other)
				}
			}
		}
	})
}

func FuzzNames(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, 42, 43)
	}
	f.Add("main", 1, 2)
	f.Fuzz(func(t *testing.T, branch string, pr1, pr2 int) {
		if stack, host, err := BranchPreview("shop", branch); err == nil {
			if !ValidStack(stack) || !ValidHostLabel(host) || !ValidELB(ELB(stack)) {
				t.Fatalf("branch %q: invalid stack %q host %q elb %q", branch, stack, host, ELB(stack))
			}
			if stack == "shop-shared" || strings.HasPrefix(host, "pr-") {
				t.Fatalf("branch %q took a reserved name %q", branch, stack)
			}
		} else if strings.TrimSpace(branch) != "" {
			t.Fatalf("branch %q refused: %v", branch, err)
		}
		if pr1 <= 0 || pr2 <= 0 {
			return
		}
		a, err1 := Preview("shop", pr1)
		b, err2 := Preview("shop", pr2)
		ha, _ := PreviewHost(pr1)
		if err1 != nil || err2 != nil || !ValidStack(a) || !ValidHostLabel(ha) || !ValidELB(ELB(a)) {
			t.Fatalf("PR %d: %q %v %v", pr1, a, err1, err2)
		}
		if (pr1 != pr2) == (a == b) || (pr1 != pr2 && ELB(a+"-tg") == ELB(b+"-tg")) {
			t.Fatalf("PRs %d and %d: stacks %q %q", pr1, pr2, a, b)
		}
	})
}
