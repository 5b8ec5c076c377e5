package cfnstack

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/slipway/slipway/internal/testenv/awsfault"
)

func TestTemplateResourceTypes(t *testing.T) {
	cases := map[string]struct {
		body string
		want []string
		err  string
	}{
		"YAML with short forms, sorted, each type once": {body: `
Resources:
  B: {Type: AWS::ECS::Service, Properties: {Cluster: !Ref C}}
  A:
    Type: AWS::EC2::SecurityGroup
    Condition: X
  C: {Type: AWS::EC2::SecurityGroup}
`, want: []string{"AWS::EC2::SecurityGroup", "AWS::ECS::Service"}},
		"JSON":                    {body: `{"Resources": {"P": {"Type": "AWS::SSM::Parameter"}}}`, want: []string{"AWS::SSM::Parameter"}},
		"a resource with no type": {body: "Resources:\n  P:\n    Properties: {}\n", err: "resource P (line 2) has no Type"},
		"no resources":            {body: "Parameters: {}\n", err: "has no Resources"},
		"not a template":          {body: "", err: "empty"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := TemplateResourceTypes(c.body)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// denyUndeclaredTypes answers as AWS IAM does for a role whose policy
// allows stack changes only for some resource types (ForAllValues over
// cloudformation:ResourceTypes) and denies them when the request names no
// types (Null), as infra/iam does. AWS documents that the key comes only
// from the request's ResourceTypes parameter (Service Authorization
// Reference, "Actions, resources, and condition keys for AWS
// CloudFormation", cloudformation:ResourceTypes) and that ForAllValues is
// true when the key is missing (IAM User Guide, "Single-valued vs.
// multivalued context keys"): without the Null deny and without the
// parameter, any type would pass.
func denyUndeclaredTypes(allowed ...string) awsfault.Hook {
	return func(c *awsfault.Call) (any, error) {
		var got []string
		switch in := c.Params.(type) {
		case *cloudformation.CreateChangeSetInput:
			got = in.ResourceTypes
		case *cloudformation.UpdateStackInput:
			got = in.ResourceTypes
		}
		ok := len(got) > 0
		for _, t := range got {
			ok = ok && slices.Contains(allowed, t)
		}
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "AccessDenied", Fault: smithy.FaultClient,
				Message: "User: arn:aws:sts::123456789012:assumed-role/demo-preview/slipway-1 is not authorized to perform: cloudformation:" + c.Op + " with an explicit deny in an identity-based policy"}
		}
		return c.Next()
	}
}

func testResourceTypes(t *testing.T, endpoint string) {
	t.Run("a role allowed only the template's resource types creates, updates and modifies the stack", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.inj.On("CreateChangeSet", denyUndeclaredTypes("AWS::SSM::Parameter"))
		e.inj.On("UpdateStack", denyUndeclaredTypes("AWS::SSM::Parameter"))
		ctx := context.Background()
		if _, err := e.eng.Upsert(ctx, e.input("types-1", "v1")); err != nil {
			t.Fatalf("create: %v", err)
		}
		if res, err := e.eng.Upsert(ctx, e.input("types-1", "v2")); err != nil || res.Action != Updated {
			t.Fatalf("update: %v, %v", res.Action, err)
		}
		st, err := e.eng.Modify(ctx, ModifyInput{Name: "types-1", Parameters: map[string]string{"Value": "v3"}})
		if err != nil || st.Params["Value"] != "v3" {
			t.Fatalf("modify: %v, params %v", err, st.Params)
		}
		for _, in := range e.inj.Sent("CreateChangeSet") {
			if got := in.(*cloudformation.CreateChangeSetInput).ResourceTypes; !slices.Equal(got, []string{"AWS::SSM::Parameter"}) {
				t.Errorf("CreateChangeSet ResourceTypes %v, want the template's [AWS::SSM::Parameter]", got)
			}
		}
	})

	t.Run("a template with a type the role may not create is refused, naming the action", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.inj.On("CreateChangeSet", denyUndeclaredTypes("AWS::ECS::Service"))
		_, err := e.eng.Upsert(context.Background(), e.input("types-2", "v1"))
		var se *StackError
		if err == nil || !strings.Contains(err.Error(), "not authorized to perform: cloudformation:CreateChangeSet") || !errors.As(err, &se) || se.Next == "" {
			t.Fatalf("Upsert: %v, want the AccessDenied with the next command", err)
		}
		if n := e.inj.Count("ExecuteChangeSet"); n != 0 {
			t.Errorf("%d ExecuteChangeSet calls after a refused change set, want none", n)
		}
		if in := e.inj.Sent("CreateChangeSet"); len(in) != 1 || aws.ToString(in[0].(*cloudformation.CreateChangeSetInput).StackName) != "types-2" {
			t.Errorf("CreateChangeSet calls %v, want one", in)
		}
	})
}
