package awsprov

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rdsdata/types"

	"github.com/slipway/slipway/internal/database"
)

func TestDataAPIParametersAreNamedWithAColon(t *testing.T) {
	got := dataAPIParams("SELECT format(@verb::text, @name::text, @names::text) WHERE x = @name",
		[]database.Arg{{Name: "name"}, {Name: "names"}, {Name: "verb"}})
	if want := "SELECT format(:verb::text, :name::text, :names::text) WHERE x = :name"; got != want {
		t.Errorf("dataAPIParams = %q, want %q", got, want)
	}
}

func TestDataAPIValuesReadAsText(t *testing.T) {
	cases := []struct {
		in   rdstypes.Field
		want *string
	}{
		{&rdstypes.FieldMemberStringValue{Value: "shop_pr_7"}, aws.String("shop_pr_7")},
		{&rdstypes.FieldMemberLongValue{Value: 42}, aws.String("42")},
		{&rdstypes.FieldMemberBooleanValue{Value: true}, aws.String("true")},
		{&rdstypes.FieldMemberIsNull{Value: true}, nil},
	}
	for _, c := range cases {
		got, err := fieldText(c.in)
		if err != nil || aws.ToString(got) != aws.ToString(c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("fieldText(%T) = %v, %v; want %v", c.in, aws.ToString(got), err, aws.ToString(c.want))
		}
	}
	if _, err := fieldText(&rdstypes.FieldMemberBlobValue{}); err == nil || !strings.Contains(err.Error(), "cast the column to text") {
		t.Errorf("a blob column: %v, want an error saying to cast it", err)
	}
}

// The admin reacts to SQLSTATEs (55006: the template is in use; 3D000: it
// was dropped; 42P04: the name is taken), which the Data API gives in its
// message; access errors say which role to use.
func TestDataAPIErrors(t *testing.T) {
	err := dataAPIError(&rdstypes.DatabaseErrorException{Message: aws.String(`ERROR: source database "shop_golden_1" is being accessed by other users; SQLState: 55006`)})
	var se *database.SQLError
	if !errors.As(err, &se) || se.Code != "55006" {
		t.Errorf("DatabaseErrorException: %v, want a SQLError with code 55006", err)
	}
	err = dataAPIError(&rdstypes.BadRequestException{Message: aws.String(`ERROR: database "shop_pr_1" already exists; SQLState: 42P04`)})
	if !errors.As(err, &se) || se.Code != "42P04" {
		t.Errorf("BadRequestException: %v, want a SQLError with code 42P04", err)
	}
	err = dataAPIError(&rdstypes.AccessDeniedException{Message: aws.String("not authorized to perform rds-data:ExecuteStatement")})
	if errors.As(err, &se) || !strings.Contains(err.Error(), "release role") {
		t.Errorf("AccessDeniedException: %v, want an error naming the release role", err)
	}
	err = dataAPIError(&rdstypes.DatabaseResumingException{Message: aws.String("resuming")})
	if !strings.Contains(err.Error(), "resuming from a pause") {
		t.Errorf("DatabaseResumingException: %v, want it said plainly", err)
	}
}

// The Data API stops waiting for a statement after 45 s and, with
// continueAfterTimeout (set on every statement), the statement goes on: it
// answers StatementTimeoutException (RDS Data API reference,
// ExecuteStatement, continueAfterTimeout). That is database.ErrStillRunning,
// which a clone waits out instead of running again.
func TestAStatementTheDataAPIStoppedWaitingForIsStillRunning(t *testing.T) {
	err := dataAPIError(&rdstypes.StatementTimeoutException{Message: aws.String("Request timed out")})
	if !errors.Is(err, database.ErrStillRunning) || !strings.Contains(err.Error(), "stopped waiting after 45 s") {
		t.Fatalf("err = %v, want database.ErrStillRunning said in words", err)
	}
}
