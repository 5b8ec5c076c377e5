package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// With the database on, a target without Databases (the aws target today)
// fails before anything is deployed, naming the target and the setting.
func TestDatabaseOnATargetWithoutDatabaseSupportFailsClearly(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "abcdef1234567", &fakeTester{})
	f.Database, f.Target = true, "aws"
	_, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 7})
	if !errors.Is(err, ErrNoDatabaseSupport) || !strings.Contains(err.Error(), "the aws target has no database support yet") || !strings.Contains(err.Error(), "SLIPWAY_DATABASE") {
		t.Fatalf("err = %v, want the aws target's missing database support named", err)
	}
	if len(p.stacks) != 0 {
		t.Fatalf("deployed %v without its database", p.stacks)
	}
}
