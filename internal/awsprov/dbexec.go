package awsprov

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/smithy-go"

	"github.com/slipway/slipway/internal/database"
)

// DataAPI is the part of the RDS Data API Slipway calls.
type DataAPI interface {
	ExecuteStatement(ctx context.Context, in *rdsdata.ExecuteStatementInput, opts ...func(*rdsdata.Options)) (*rdsdata.ExecuteStatementOutput, error)
}

var _ DataAPI = (*rdsdata.Client)(nil)

// dataAPI is database.Executor over the RDS Data API: each statement is an
// ExecuteStatement with the cluster's ARN and the RDS-managed master user
// secret, and no transaction ID, so it autocommits on its own (CREATE
// DATABASE refuses a transaction). There is no session: Open only names
// the database.
type dataAPI struct {
	api                   DataAPI
	clusterARN, secretARN string
	resumeWait            time.Duration // between attempts while a paused cluster resumes
}

// resumeAttempts bounds the retries of a statement while the cluster
// resumes from a pause (0 ACU minimum: about 15 s on AWS).
const resumeAttempts = 6

var _ database.Executor = dataAPI{}

func (d dataAPI) Open(_ context.Context, db string) (database.Session, error) {
	return dataSession{d: d, db: db}, nil
}

type dataSession struct {
	d  dataAPI
	db string
}

func (dataSession) Close(context.Context) error { return nil }

// Query runs sql; its @name parameters become the Data API's :name.
func (s dataSession) Query(ctx context.Context, sql string, args ...database.Arg) ([][]*string, error) {
	in := &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(s.d.clusterARN), SecretArn: aws.String(s.d.secretARN),
		Database: aws.String(s.db), Sql: aws.String(dataAPIParams(sql, args)), ContinueAfterTimeout: true}
	for _, a := range args {
		in.Parameters = append(in.Parameters, rdstypes.SqlParameter{Name: aws.String(a.Name), Value: &rdstypes.FieldMemberStringValue{Value: a.Value}})
	}
	out, err := s.d.execute(ctx, in)
	if err != nil {
		return nil, dataAPIError(err)
	}
	rows := make([][]*string, 0, len(out.Records))
	for _, rec := range out.Records {
		row := make([]*string, len(rec))
		for i, f := range rec {
			v, err := fieldText(f)
			if err != nil {
				return nil, fmt.Errorf("read the answer to %q: %w", firstWords(sql), err)
			}
			row[i] = v
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// execute runs in, again while the cluster resumes from a pause.
func (d dataAPI) execute(ctx context.Context, in *rdsdata.ExecuteStatementInput) (*rdsdata.ExecuteStatementOutput, error) {
	for i := 1; ; i++ {
		out, err := d.api.ExecuteStatement(ctx, in)
		var resuming *rdstypes.DatabaseResumingException
		if !errors.As(err, &resuming) || i == resumeAttempts {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d.resumeWait):
		}
	}
}

// dataAPIParams writes the statement's @name parameters as :name, the Data
// API's form. The statements are the admin's own constants and the names
// its own; longer names go first so @name never rewrites @names.
func dataAPIParams(sql string, args []database.Arg) string {
	names := make([]string, 0, len(args))
	for _, a := range args {
		names = append(names, a.Name)
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	for _, n := range names {
		sql = strings.ReplaceAll(sql, "@"+n, ":"+n)
	}
	return sql
}

// fieldText is a Data API value as text (nil: NULL).
func fieldText(f rdstypes.Field) (*string, error) {
	var s string
	switch v := f.(type) {
	case *rdstypes.FieldMemberIsNull:
		return nil, nil
	case *rdstypes.FieldMemberStringValue:
		s = v.Value
	case *rdstypes.FieldMemberLongValue:
		s = strconv.FormatInt(v.Value, 10)
	case *rdstypes.FieldMemberBooleanValue:
		s = strconv.FormatBool(v.Value)
	case *rdstypes.FieldMemberDoubleValue:
		s = strconv.FormatFloat(v.Value, 'g', -1, 64)
	default:
		return nil, fmt.Errorf("a value of type %T: cast the column to text", f)
	}
	return &s, nil
}

// sqlStateRe finds the SQLSTATE the Data API appends to a refused
// statement's message ("...; SQLState: 55006").
var sqlStateRe = regexp.MustCompile(`SQLState: ([0-9A-Z]{5})`)

// dataAPIError makes a statement Postgres refused a *database.SQLError
// (the Data API answers DatabaseErrorException, or BadRequestException,
// with Postgres' message and "SQLState: ..."); other errors (access,
// throttling, a paused cluster) stay as they are.
func dataAPIError(err error) error {
	var resuming *rdstypes.DatabaseResumingException
	if errors.As(err, &resuming) {
		return fmt.Errorf("the database cluster is resuming from a pause (0 ACU minimum): try again in a minute: %w", err)
	}
	var timeout *rdstypes.StatementTimeoutException
	if errors.As(err, &timeout) {
		// ContinueAfterTimeout is set on every statement: the Data API
		// stops waiting after 45 s and the statement goes on (RDS Data
		// API reference, ExecuteStatement: continueAfterTimeout).
		return fmt.Errorf("RDS Data API stopped waiting after 45 s: %w: %w", database.ErrStillRunning, err)
	}
	var denied *rdstypes.AccessDeniedException
	var forbidden *rdstypes.ForbiddenException
	if errors.As(err, &denied) || errors.As(err, &forbidden) {
		return fmt.Errorf("RDS Data API: this role may not run statements on the database cluster: administer databases with the release role (the preview role is denied the Data API and the master secret on purpose: a branch must never reach the production data): %w", err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := sqlStateRe.FindStringSubmatch(ae.ErrorMessage()); m != nil {
			return fmt.Errorf("RDS Data API: %w", &database.SQLError{Code: m[1], Message: ae.ErrorMessage()})
		}
	}
	return fmt.Errorf("RDS Data API: %w", err)
}

// firstWords is the start of a statement, for an error (never a password:
// the statements that hold one are not read).
func firstWords(sql string) string {
	f := strings.Fields(sql)
	return strings.Join(f[:min(len(f), 4)], " ")
}
