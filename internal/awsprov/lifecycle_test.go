package awsprov

import (
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

func TestTagValuesAreAcceptedByEveryTaggedResource(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"a plain branch stays", "feature/login-v2", "feature/login-v2"},
		{"characters ELB and ECS tags refuse become hyphens", "fix#12!'$(rm -rf)", "fix-12----rm -rf-"},
		{"letters of any script stay", "été/ブランチ", "été/ブランチ"},
		{"cut to 256 bytes without splitting a character", strings.Repeat("é", 200), strings.Repeat("é", 128)},
		{"surrounding spaces go", "  x  ", "x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := tagValue(c.in); got != c.want {
				t.Errorf("tagValue(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestLastLiveKeysFitELBv2TagKeys(t *testing.T) {
	if got := liveKey("shop-prod-20261201120000-abc1234"); got != "slipway:last-live:shop-prod-20261201120000-abc1234" {
		t.Errorf("liveKey = %q", got)
	}
	long := "a" + strings.Repeat("-b", 63)
	if k := liveKey(long); len(k) > maxTagKey || k == liveKey(long+"c") {
		t.Errorf("liveKey of a 127-character name = %q (%d characters), want at most %d and distinct", k, len(k), maxTagKey)
	}
}

func TestMetricDimensionsFromARNs(t *testing.T) {
	tg := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-prod-1/73e2d6bc24d8a067"
	lb := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-shared/50dc6c495c0c9188"
	if got := arnSuffix(tg, "targetgroup/"); got != "targetgroup/shop-prod-1/73e2d6bc24d8a067" {
		t.Errorf("TargetGroup dimension %q", got)
	}
	if got := arnSuffix(lb, "loadbalancer/"); got != "app/shop-shared/50dc6c495c0c9188" {
		t.Errorf("LoadBalancer dimension %q", got)
	}
}

func TestStacksReadTheLifecycleFromTagsAndParameters(t *testing.T) {
	s := cfnstack.Stack{Name: "shop-prod-1", Status: "UPDATE_COMPLETE", State: cfnstack.StateHealthy,
		Tags:   map[string]string{TagRole: deploy.RoleProduction, TagBranch: "main", TagDirty: "true", TagEnv: "abc", TagState: "failed"},
		Params: map[string]string{paramDesired: "0"}}
	got := toStack(s)
	if got.Branch != "main" || !got.Dirty || got.EnvHash != "abc" || got.State != deploy.StateFailed || !got.Scaled || got.Healthy ||
		got.Status != "UPDATE_COMPLETE, scaled to zero" {
		t.Errorf("toStack = %+v", got)
	}
	s.Tags, s.Params = map[string]string{TagRole: deploy.RoleProduction}, map[string]string{paramDesired: "1"}
	if got := toStack(s); got.Dirty || got.Scaled || !got.Healthy || got.State != deploy.StateHealthy {
		t.Errorf("a plain healthy stack reads %+v", got)
	}
}

// A stack deployed without a database secret says it never used the
// database (a release's migration cannot break it); one with a secret, or
// whose parameters were not read, does not.
func TestStacksSayWhetherTheyUseTheDatabase(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   bool
	}{
		{"deployed without a database secret", map[string]string{"Image": "repo@sha256:1", "DatabaseSecretArn": ""}, true},
		{"deployed with one", map[string]string{"Image": "repo@sha256:1", "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:shop/prod/database-url"}, false},
		{"parameters not read: unknown, so checked", map[string]string{}, false},
	} {
		s := cfnstack.Stack{Name: "shop-prod-1", State: cfnstack.StateHealthy, Tags: map[string]string{TagRole: deploy.RoleProduction}, Params: tc.params}
		if got := toStack(s).NoDatabase; got != tc.want {
			t.Errorf("%s: NoDatabase = %v, want %v", tc.name, got, tc.want)
		}
	}
}
