package target

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/github"
	"github.com/slipway/slipway/internal/manifest"
)

func TestChooseAppliesTheRulesThatOverrideSlipwayTarget(t *testing.T) {
	fork := &github.Context{Actions: true, Event: "pull_request", PR: 217, Fork: true, Repo: "octo/shop", HeadRepo: "mallory/shop", SHA: "abcdef1234567"}
	own := &github.Context{Actions: true, Event: "pull_request", PR: 12, Repo: "octo/shop", SHA: "abcdef1234567"}
	labelled := &github.Context{Actions: true, Event: "pull_request_target", EventAction: "labeled", Label: github.SafeToDeployLabel,
		PR: 217, Fork: true, Repo: "octo/shop", HeadRepo: "mallory/shop", SHA: "abcdef1234567"}
	tests := []struct {
		name        string
		configured  string
		alwaysLocal string
		gh          *github.Context
		want        string
		override    string // a part of Override; "" for none
		noAWS       bool
	}{
		{"the configured aws target", AWS, "", nil, AWS, "", false},
		{"the configured local target", Local, "", nil, Local, "", false},
		{"the demo on aws runs locally and says why", AWS, "the demo is local", nil, Local, "the demo is local", false},
		{"a fork's pull request in Actions never reaches aws", AWS, "", fork, Local, "no AWS deploy: pull request #217 comes from the fork mallory/shop", true},
		{"a fork's pull request on the local target says no AWS but overrides nothing", Local, "", fork, Local, "", true},
		{"the repository's own pull request goes to aws", AWS, "", own, AWS, "", false},
		{"a maintainer's label deploys the reviewed fork head to aws", AWS, "", labelled, AWS, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Choose(config.Config{Target: tt.configured}, tt.alwaysLocal, tt.gh)
			if c.Name != tt.want || (tt.override == "") != (c.Override == "") || !strings.Contains(c.Override, tt.override) || (c.NoAWS != "") != tt.noAWS {
				t.Fatalf("Choose = %+v, want target %s, override containing %q, no-AWS reason %v", c, tt.want, tt.override, tt.noAWS)
			}
		})
	}
}

// The local target opened in place of aws has the local URLs and says why
// on one line; it holds no aws provider.
func TestOpenInPlaceOfAWSIsLocalThroughout(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SLIPWAY_TARGET": "aws", "SLIPWAY_APP": "shop", "HOME": t.TempDir()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	tg, err := Open(context.Background(), Options{Config: cfg, AlwaysLocal: "the demo always runs on the local target", Env: func(string) string { return "" }, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name != Local || tg.Local == nil || tg.AWS != nil || tg.Config.Target != Local {
		t.Fatalf("opened %s (local %v, aws %v, config %s): want the local target only", tg.Name, tg.Local != nil, tg.AWS != nil, tg.Config.Target)
	}
	if h := tg.Config.Manifest.Health; h != manifest.LocalHealth {
		t.Errorf("the app's health check is %+v, want the local router's defaults %+v", h, manifest.LocalHealth)
	}
	if u := tg.Routing.URL(tg.Routing.ProductionHost()); !strings.HasPrefix(u, "http://shop.localhost:") {
		t.Errorf("production URL %s, want the local router's", u)
	}
	if got := log.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "target: local, not aws: the demo always runs on the local target") {
		t.Errorf("log %q, want one line saying local and why", got)
	}
}
