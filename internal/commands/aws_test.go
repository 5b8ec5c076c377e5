package commands_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/testenv"
)

// With SLIPWAY_TARGET=aws the targets reach the AWS API (moto here) with
// the SDK's credential chain: config names the URL scheme, status reads an
// empty account, and shared:destroy of an absent shared stack succeeds.
func TestAWSTargetsReachTheAWSAPI(t *testing.T) {
	testenv.Docker(t) // the session connects to the engine that builds and pushes
	endpoint := testenv.Moto(t)
	env := []string{
		"SLIPWAY_APP=awsprobe", "SLIPWAY_TARGET=aws", "SLIPWAY_AWS_ENDPOINT=" + endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
		"SLIPWAY_AWS_PREVIEW_PORTS=9001-9010", "GITHUB_ACTIONS=", "GH_TOKEN=", "GITHUB_TOKEN=",
	}
	out, stderr, err := mage(t, env, "config")
	if err != nil || !strings.Contains(out, "URL scheme") || !strings.Contains(out, "ALB ports: http://<shared ALB DNS name>:<port 9001-9010>/") {
		t.Fatalf("config on aws: %v\n%s\n%s", err, out, stderr)
	}
	out, stderr, err = mage(t, env, "status")
	if err != nil || strings.TrimSpace(out) != "no stacks" || strings.Contains(stderr, "demo") || !strings.Contains(stderr, "release") {
		t.Fatalf("status of an empty account: %v\n%s\n%s, want no stacks and a hint that fits aws (not the demo, which is local)", err, out, stderr)
	}
	// An account it cannot read is an error, never "no stacks".
	down, _ := countingEndpoint(t)
	unreachable := append(append([]string(nil), env...), "SLIPWAY_AWS_ENDPOINT="+down)
	out, stderr, err = mage(t, unreachable, "status")
	if err == nil || out != "" || !strings.Contains(stderr, "read the stacks of awsprobe on the aws target") {
		t.Fatalf("status of an unreachable account: %v\nstdout %q\n%s, want only the error", err, out, stderr)
	}
	// cleanup asks GitHub about pull requests the same way on aws (here
	// there is no repository, and it says so), then takes the app's lease,
	// whose table the shared stack creates.
	_, stderr, err = mage(t, env, "cleanup", "-dryRun")
	if err == nil || !strings.Contains(stderr, "no GitHub repository") || !strings.Contains(stderr, "awsprobe-slipway-lock does not exist: run `go run mage.go shared:deploy`") {
		t.Fatalf("cleanup before shared:deploy: %v\n%s, want the PR check named and the missing lock table with what to run", err, stderr)
	}
	if _, stderr, err = mage(t, env, "shared:destroy"); err != nil {
		t.Fatalf("shared:destroy with no shared stack: %v\n%s", err, stderr)
	}
	env[1] = "SLIPWAY_TARGET=local"
	if _, stderr, err = mage(t, env, "shared:deploy"); err == nil || !strings.Contains(stderr, "is for the aws target") {
		t.Fatalf("shared:deploy on the local target: %v\n%s, want a refusal saying it is for aws", err, stderr)
	}
}

// config on the aws target, as a user runs it: the URLs are the ones the
// aws target gives (ALB ports without a hosted zone, host names under the
// domain with one, https only with a certificate), and the health bound is
// the one in force, with why.
func TestConfigOnAWSPrintsTheURLsAndHealthBoundInForce(t *testing.T) {
	base := []string{"SLIPWAY_APP=awsconf", "SLIPWAY_TARGET=aws", "SLIPWAY_HEALTH_TIMEOUT=", "SLIPWAY_DOMAIN=", "SLIPWAY_AWS_HOSTED_ZONE_ID=",
		"SLIPWAY_AWS_CERTIFICATE_ARN=", "SLIPWAY_AWS_PREVIEW_PORTS=9001-9010"}
	for _, tc := range []struct {
		name             string
		env              []string
		production, pr42 string
		health           string
	}{
		{"ALB ports", nil, "http://<shared ALB DNS name>", "http://<shared ALB DNS name>:<a port of 9001-9010, given at deploy>",
			"5m0s (raised from 1m0s: the aws target gives a Fargate task at least 5m0s"},
		{"hosted zone", []string{"SLIPWAY_DOMAIN=example.com", "SLIPWAY_AWS_HOSTED_ZONE_ID=Z123", "SLIPWAY_HEALTH_TIMEOUT=7m"},
			"http://example.com", "http://pr-42.example.com", "7m0s"},
	} {
		out, stderr, err := mage(t, append(append([]string(nil), base...), tc.env...), "config")
		if err != nil {
			t.Fatalf("%s: config: %v\n%s", tc.name, err, stderr)
		}
		rows := configRows(out)
		if rows["production URL"] != tc.production || rows["preview URL of PR 42"] != tc.pr42 || !strings.HasPrefix(rows["SLIPWAY_HEALTH_TIMEOUT"], tc.health) {
			t.Errorf("%s: config printed production URL %q, preview URL of PR 42 %q, SLIPWAY_HEALTH_TIMEOUT %q; want %q, %q, %q…\n%s",
				tc.name, rows["production URL"], rows["preview URL of PR 42"], rows["SLIPWAY_HEALTH_TIMEOUT"], tc.production, tc.pr42, tc.health, out)
		}
	}
}

// configRows maps each row of config's output to its value.
func configRows(out string) map[string]string {
	rows := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		name, rest, ok := strings.Cut(l, "  ")
		if !ok {
			continue
		}
		if f := strings.SplitN(strings.TrimSpace(rest), "  ", 2); len(f) == 2 {
			rows[strings.TrimSpace(name)] = strings.TrimSpace(f[1])
		}
	}
	return rows
}

// destroy is the aws target's teardown; on the local target it changes
// nothing and names local:down, and on aws it changes nothing until the
// app is named (checked before any AWS client exists: no endpoint is
// reachable here).
func TestDestroyChangesNothingUntilTheAppIsNamed(t *testing.T) {
	_, stderr, err := mage(t, []string{"SLIPWAY_APP=shop", "SLIPWAY_TARGET=local"}, "destroy", "-app=shop")
	if err == nil || !strings.Contains(stderr, "destroy is for the aws target") || !strings.Contains(stderr, "go run mage.go local:down") {
		t.Errorf("destroy on the local target: %v, want a refusal naming local:down:\n%s", err, stderr)
	}
	down, connections := countingEndpoint(t)
	_, stderr, err = mage(t, []string{"SLIPWAY_APP=shop", "SLIPWAY_TARGET=aws", "SLIPWAY_AWS_ENDPOINT=" + down, "AWS_REGION=us-east-1"}, "destroy")
	if err == nil || !strings.Contains(stderr, "nothing was changed: to go ahead, name the app: `go run mage.go destroy -app=shop`") || connections.Load() != 0 {
		t.Errorf("destroy without -app: %v, %d connections to AWS; want a refusal before any call:\n%s", err, connections.Load(), stderr)
	}
}
