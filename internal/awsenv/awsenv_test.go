package awsenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/slipway/slipway/internal/testenv"
)

// isolate clears the AWS variables of the machine running the tests, so
// only what a test sets reaches the SDK.
func isolate(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestCredentialChainReachesTheEndpoint(t *testing.T) {
	endpoint := testenv.Moto(t)
	tests := []struct {
		name  string
		setup func(t *testing.T)
	}{
		{"static keys from the environment", func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		}},
		{"a named profile in the shared credentials file", func(t *testing.T) {
			creds := "[slipway-dev]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = secret\n"
			if err := os.WriteFile(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), []byte(creds), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("AWS_PROFILE", "slipway-dev")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			tt.setup(t)
			cfg, err := Load(context.Background(), Settings{Region: "eu-west-1", Endpoint: endpoint})
			if err != nil {
				t.Fatal(err)
			}
			account, arn, err := Identity(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if account != "123456789012" || !strings.Contains(arn, "arn:aws") {
				t.Fatalf("moto's default account expected, got %q %q", account, arn)
			}
		})
	}
}

func TestMissingRegionSaysWhatToSet(t *testing.T) {
	isolate(t)
	_, err := Load(context.Background(), Settings{})
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("err = %v, want a hint to set AWS_REGION", err)
	}
}

func TestMissingCredentialsSaysWhatToCheck(t *testing.T) {
	endpoint := testenv.Moto(t)
	isolate(t)
	cfg, err := Load(context.Background(), Settings{Region: "eu-west-1", Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Identity(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "check AWS credentials") {
		t.Fatalf("err = %v, want a hint about credentials", err)
	}
}

func TestRetryerAllowsMoreAttemptsThanTheSDKDefault(t *testing.T) {
	isolate(t)
	tests := []struct {
		name string
		s    Settings
		want int
	}{
		{"default", Settings{Region: "eu-west-1"}, DefaultMaxAttempts},
		{"set by the caller", Settings{Region: "eu-west-1", MaxAttempts: 4}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(context.Background(), tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Retryer == nil {
				t.Fatal("no retryer in the configuration")
			}
			if got := cfg.Retryer().MaxAttempts(); got != tt.want {
				t.Errorf("MaxAttempts = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestThrottledCallsAreRetriedUntilTheySucceed(t *testing.T) {
	endpoint := testenv.Moto(t)
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	cfg, err := Load(context.Background(), Settings{Region: "eu-west-1", Endpoint: endpoint, MaxBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Real AWS answers Throttling "Rate exceeded" to a burst of calls;
	// moto never does. Answer the first 6 attempts that way: more than the
	// SDK's default 3 attempts could survive.
	attempts := 0
	throttle := func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("throttle",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				if attempts++; attempts <= 6 {
					return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
				}
				return next.HandleDeserialize(ctx, in)
			}), middleware.Before)
	}
	cfg.APIOptions = append(cfg.APIOptions, throttle)
	if _, _, err := Identity(context.Background(), cfg); err != nil {
		t.Fatalf("after 6 throttled attempts: %v", err)
	}
	if attempts != 7 {
		t.Errorf("%d attempts, want 7", attempts)
	}
}
