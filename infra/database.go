package infra

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The optional database of the shared stack (SharedParams.Database): one
// Aurora Serverless v2 PostgreSQL cluster named <app>-db, 0 ACU minimum.
const (
	DatabaseEngine = "aurora-postgresql"
	// DatabaseEngineVersion is the cluster's Aurora PostgreSQL version. Its
	// major is the one the database tests run (pgimage.Major, a test holds
	// them together). 17.4 is the first Aurora PostgreSQL 17 release with
	// the RDS Data API on Serverless v2 ("Supported Regions and Aurora DB
	// engines for RDS Data API", Aurora User Guide). Auto-pause (0 ACU)
	// came with 16.3, before any 17; on a real account `aws rds
	// describe-db-engine-versions --engine aurora-postgresql --engine-version
	// 17.4` must show ServerlessV2FeaturesSupport.MinCapacity 0. The
	// instance takes newer minor versions itself (AutoMinorVersionUpgrade).
	DatabaseEngineVersion = "17.4"
	DatabasePort          = 5432
	DefaultMaxACU         = 2.0 // Aurora capacity units; the minimum is always 0 (pauses when idle)
	MaxMaxACU             = 256.0
	// DatabaseURLEnv is the variable a container gets its database URL in,
	// from the secret DeployParams.DatabaseSecretARN names, never as plain
	// environment.
	DatabaseURLEnv = "DATABASE_URL"
)

// Outputs of the shared stack's database (present only with a database).
const (
	OutputDatabaseEndpoint   = "DatabaseEndpoint"
	OutputDatabasePort       = "DatabasePort"
	OutputDatabaseClusterARN = "DatabaseClusterArn"
	OutputDatabaseSecretARN  = "DatabaseSecretArn" // master user secret, managed by RDS
)

// DatabaseOutputs is what the tool needs of the shared stack's database:
// where it is, and what the RDS Data API takes (the cluster and the master
// user secret) to run CREATE DATABASE ... TEMPLATE without a task.
type DatabaseOutputs struct {
	Endpoint   string
	Port       int
	ClusterARN string
	SecretARN  string
}

// DatabaseClusterID is the database cluster's identifier for an app; IAM
// scopes the release role's Data API statements to it.
func DatabaseClusterID(app string) string { return app + "-db" }

var secretARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:([A-Za-z0-9/_+=.@-]+)$`)

// parseDatabaseOutputs reads the database outputs: none of them means the
// stack has no database (nil); some but not all is a stack to update.
func parseDatabaseOutputs(m map[string]string) (*DatabaseOutputs, error) {
	keys := []string{OutputDatabaseEndpoint, OutputDatabasePort, OutputDatabaseClusterARN, OutputDatabaseSecretARN}
	var have, missing []string
	for _, k := range keys {
		if m[k] != "" {
			have = append(have, k)
		} else {
			missing = append(missing, k)
		}
	}
	if len(have) == 0 {
		return nil, nil
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("read shared stack outputs: database outputs %s present but %s missing (update the shared stack: go run mage.go shared:deploy)", strings.Join(have, ", "), strings.Join(missing, ", "))
	}
	port, err := strconv.Atoi(m[OutputDatabasePort])
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("read shared stack outputs: %s %q is not a port", OutputDatabasePort, m[OutputDatabasePort])
	}
	return &DatabaseOutputs{Endpoint: m[OutputDatabaseEndpoint], Port: port,
		ClusterARN: m[OutputDatabaseClusterARN], SecretARN: m[OutputDatabaseSecretARN]}, nil
}

// validateDatabase checks the shared stack's database settings.
func (p SharedParams) validateDatabase() error {
	if !p.Database {
		if p.MaxACU != 0 {
			return errf("database capacity %g ACU without a database: set Database too, or leave the capacity unset", p.MaxACU)
		}
		return nil
	}
	a := p.MaxACU
	if a < 1 || a > MaxMaxACU || math.Mod(a*2, 1) != 0 {
		return errf("database capacity %g ACU: want 1-%g in steps of 0.5 (the minimum is 0: the cluster pauses when idle)", a, MaxMaxACU)
	}
	return nil
}

// validateDatabaseSecret checks the secret a deploy stack's container gets
// as DATABASE_URL: a Secrets Manager ARN named <app>/..., and for the
// preview <app>-pr-<N> <app>/pr-<N>/... (the preview execution role reads
// every <app>/pr-* secret: IAM cannot tell one pull request's task from
// another's, so this check keeps the tool from handing a preview another
// pull request's database; see infra/README.md on what it cannot stop).
func (p DeployParams) validateDatabaseSecret() error {
	if p.DatabaseSecretARN == "" {
		return nil
	}
	m := secretARNRe.FindStringSubmatch(p.DatabaseSecretARN)
	if m == nil {
		return errf("stack %s: database secret %q is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)", p.Stack, p.DatabaseSecretARN)
	}
	app := p.Shared.ClusterName // the cluster is named for the app
	prefix := app + "/"
	if p.Role == RolePreview {
		prefix += "pr-"
		if pr, ok := strings.CutPrefix(p.Stack, app+"-pr-"); ok {
			prefix += pr + "/"
		}
	}
	if !strings.HasPrefix(m[1], prefix) {
		return errf("stack %s: database secret %q: a %s stack's secret must be named %s... (its task execution role reads no other)", p.Stack, m[1], p.Role, prefix)
	}
	return nil
}
