package commands_test

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/testenv"
)

// What a user sees when there is nothing to do: release from a feature
// branch is refused naming the flag, rollback with no release says so,
// both exit non-zero and create nothing.
func TestLifecycleTargetsRefuseClearlyAndTouchNothing(t *testing.T) {
	testenv.Docker(t)
	var rnd [3]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	app := "lc" + hex.EncodeToString(rnd[:])
	env := []string{
		"SLIPWAY_APP=" + app, "SLIPWAY_TARGET=local", "SLIPWAY_ROUTER_PORT=" + strconv.Itoa(testenv.FreePort(t)), "SLIPWAY_ROUTER_ADMIN_PORT=" + strconv.Itoa(testenv.FreePort(t)),
		"SLIPWAY_APP_IMAGE=slipway-test/" + app, "SLIPWAY_ROUTER_IMAGE=slipway-test/router", "SLIPWAY_DEFAULT_BRANCH=main",
		// A push of branch feature-x, as Actions says it.
		"GITHUB_ACTIONS=true", "GITHUB_REF_TYPE=branch", "GITHUB_REF_NAME=feature-x", "GITHUB_EVENT_PATH=", "GITHUB_STEP_SUMMARY=",
		"GH_TOKEN=", "GITHUB_TOKEN=", "GH_CONFIG_DIR=" + t.TempDir(), "SLIPWAY_ALLOW_DIRTY=", "SLIPWAY_ALLOW_BRANCH=",
	}
	_, stderr, err := mage(t, env, "release")
	if err == nil || !(strings.Contains(stderr, "-allowBranch (SLIPWAY_ALLOW_BRANCH=1)") || strings.Contains(stderr, "-allowDirty (SLIPWAY_ALLOW_DIRTY=1)")) {
		t.Fatalf("release from feature-x: err %v\n%s", err, stderr)
	}
	_, stderr, err = mage(t, env, "rollback")
	if err == nil || !strings.Contains(stderr, "nothing to roll back to") {
		t.Fatalf("rollback with no release: err %v\n%s", err, stderr)
	}
	if out, _, err := mage(t, env, "status"); err != nil || !strings.Contains(out, "no stacks") {
		t.Fatalf("status after refused commands: %v\n%s", err, out)
	}
}
