package awsprov

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/internal/deploy"
)

// Preview databases under the trust split (infra/README.md, IAM): the
// preview role runs a pull request's code, so it is denied the RDS Data
// API and reading secrets. A job of the default branch with the release
// role (preview-database.yml, `preview:database`) creates the PR's
// database and its secret <app>/pr-<n>/database-url, tagged with the
// release whose golden copy it was cloned from. The preview job then finds
// that secret by name (DescribeSecret: no value) and hands on its ARN
// only: the stack and the PR's migrate task read DATABASE_URL from it
// through the preview execution role.

const (
	// TagDatabaseFrom, on a preview's secret, is the release whose golden
	// database the preview's database was cloned from.
	TagDatabaseFrom = "slipway:database-from"

	defaultDatabaseWait = 10 * time.Minute
	secretRefPrefix     = "slipway-secret:" // a dbURL known by its secret only (see dbURL.Reveal)
)

// ErrPreviewDatabaseMissing is returned when a role that may not create
// databases finds no secret for the PR's database in time.
var ErrPreviewDatabaseMissing = errors.New("the preview's database was not created")

// accessDenied reports whether err is AWS refusing the call to this
// role: IAM answers AccessDeniedException (the Data API may also answer
// ForbiddenException).
func accessDenied(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException", "AccessDenied", "ForbiddenException":
		return true
	}
	return false
}

// tagPreviewSecret records on the preview's secret what the preview role
// may read but not the URL: its PR and the release it was cloned from.
func (p *Provider) tagPreviewSecret(ctx context.Context, arn string, pr int, from string) error {
	tags := []smtypes.Tag{{Key: aws.String(TagPR), Value: aws.String(strconv.Itoa(pr))}}
	if from != "" {
		tags = append(tags, smtypes.Tag{Key: aws.String(TagDatabaseFrom), Value: aws.String(from)})
	}
	if _, err := p.db.Secrets.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(arn), Tags: tags}); err != nil {
		return fmt.Errorf("tag secret %s: %w", p.previewSecret(pr), err)
	}
	return nil
}

// existingPreviewDatabase finds the PR's secret by name, waiting (bounded
// by Options.DatabaseWait) while the preview-database workflow may still
// be creating it, and returns the database known by that secret only.
func (p *Provider) existingPreviewDatabase(ctx context.Context, pr int, why string) (deploy.PreviewDatabase, error) {
	secret := p.previewSecret(pr)
	wait := p.o.DatabaseWait
	if wait <= 0 {
		wait = defaultDatabaseWait
	}
	p.logf("database of #%d: %s: using secret %s, which the preview-database workflow creates", pr, why, secret)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for i := 0; ; i++ {
		out, err := p.db.Secrets.DescribeSecret(wctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secret)})
		var missing *smtypes.ResourceNotFoundException
		switch {
		case err == nil && out.DeletedDate == nil:
			return p.previewByName(pr, out), nil
		case err != nil && !errors.As(err, &missing) && wctx.Err() == nil:
			return deploy.PreviewDatabase{}, fmt.Errorf("find secret %s: %w", secret, err)
		}
		if i == 0 {
			p.logf("database of #%d: waiting up to %s for secret %s", pr, wait, secret)
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil { // cancelled, not timed out
				return deploy.PreviewDatabase{}, ctx.Err()
			}
			return deploy.PreviewDatabase{}, fmt.Errorf("%w: no secret %s after %s, and this deploy does not create it (%s; the preview role is denied the Data API and secret values on purpose): "+
				"run or re-run the preview-database workflow for pull request #%d (it runs `go run mage.go preview:database -pr=%d` with the release role), then re-run this job",
				ErrPreviewDatabaseMissing, secret, wait, why, pr, pr)
		case <-time.After(p.o.Poll):
		}
	}
}

// previewByName is the database behind a described secret.
func (p *Provider) previewByName(pr int, out *secretsmanager.DescribeSecretOutput) deploy.PreviewDatabase {
	var from string
	for _, t := range out.Tags {
		if aws.ToString(t.Key) == TagDatabaseFrom {
			from = aws.ToString(t.Value)
		}
	}
	name := database.PreviewName(p.o.App, pr)
	u := dbURL{URL: database.NewURL("", "", "", name, "require"), secretARN: aws.ToString(out.ARN), preview: true, ref: true}
	// Cloned: the trusted step always clones a missing database, so a
	// database with an origin was cloned from it (on this deploy or an
	// earlier one: the preview role cannot tell which).
	return deploy.PreviewDatabase{Name: name, Cloned: from != "", From: from, URL: u}
}

// Reveal is the URL; for a database known by its secret only it is a
// reference to that secret, which databaseSecret turns back into the ARN
// (the value is never read).
func (u dbURL) Reveal() string {
	if u.ref {
		return secretRefPrefix + u.secretARN
	}
	return u.URL.Reveal()
}

// String is the URL without its password.
func (u dbURL) String() string {
	if u.ref {
		return "(the URL in secret " + u.secretARN + ")"
	}
	return u.URL.String()
}

// GoString is String.
func (u dbURL) GoString() string { return u.String() }

// secretRef returns the ARN in a reference Reveal made, checked to be
// secret name's.
func secretRef(v, name string) (string, bool, error) {
	s, ok := strings.CutPrefix(v, secretRefPrefix)
	if !ok {
		return "", false, nil
	}
	a, err := arn.Parse(s)
	rest, named := strings.CutPrefix(a.Resource, "secret:"+name+"-")
	if err != nil || a.Service != "secretsmanager" || !named || len(rest) != 6 { // Secrets Manager adds "-" and 6 characters
		return "", true, fmt.Errorf("%s names secret %q, not %s", deploy.DatabaseURLEnv, s, name)
	}
	return s, true, nil
}
