package cfnstack

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// Plan is what Upsert would do to a stack, read from a change set that is
// created and deleted again, never executed (-diff).
type Plan struct {
	Stack    string
	Create   bool // the stack does not exist: every resource is added
	Recreate bool // the stack failed and is deleted and created again
	Changes  []Change
	Params   []ParamChange // parameters whose value changes
}

// Change is one resource the change set adds, modifies or removes.
type Change struct {
	Action      string // Add, Modify, Remove (CloudFormation's words)
	LogicalID   string
	Type        string
	Replacement string // for Modify: True, False or Conditional
	Properties  []PropertyChange
	IAM         bool // an IAM resource, or a property that names a role or policy
}

// PropertyChange is one property a Modify changes.
type PropertyChange struct {
	Name          string
	Before, After string // with values (IncludePropertyValues); may be empty
	Recreation    string // Never, Conditionally, Always
}

// ParamChange is a parameter whose value changes ("****" for NoEcho ones).
type ParamChange struct{ Key, Before, After string }

// iamProperties name roles or policies: a change to them changes who may
// do what, and the plan lists it with the IAM changes.
var iamProperties = map[string]bool{"Policies": true, "AssumeRolePolicyDocument": true, "ManagedPolicyArns": true,
	"PermissionsBoundary": true, "ExecutionRoleArn": true, "TaskRoleArn": true, "Role": true, "RoleArn": true, "PolicyDocument": true}

// Plan creates a change set for in, reads it and deletes it: nothing is
// executed, and a stack the plan had to create to hold its change set is
// deleted again. A busy stack is ErrBusy; a failed one is planned as
// re-created from the template.
func (e *Engine) Plan(ctx context.Context, in Input) (Plan, error) {
	plan := Plan{Stack: in.Name}
	st, err := e.Describe(ctx, in.Name)
	if err != nil {
		return plan, err
	}
	typ := types.ChangeSetTypeUpdate
	switch {
	case st.State.Busy():
		return plan, &StackError{Op: "plan", Stack: in.Name, Status: string(st.Status), State: st.State, Reason: st.Reason, Err: ErrBusy}
	case st.State == StateAbsent || st.State == StateReview:
		typ, plan.Create = types.ChangeSetTypeCreate, true
	case st.State == StateHealthy || st.State == StateRolledBack:
	default:
		plan.Recreate = true
		plan.Changes, err = templateAdds(in.Template)
		return plan, err
	}
	resourceTypes, err := TemplateResourceTypes(in.Template)
	if err != nil {
		return plan, &StackError{Op: "plan", Stack: in.Name, Err: err}
	}
	name := token("plan")
	out, err := e.api.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{
		StackName: aws.String(in.Name), ChangeSetName: aws.String(name), ChangeSetType: typ,
		TemplateBody: aws.String(in.Template), Parameters: parameters(in.Parameters), Tags: tags(in.Tags),
		Capabilities: in.Capabilities, ResourceTypes: resourceTypes, ClientToken: aws.String(name),
		Description: aws.String("Slipway plan (-diff): never executed"),
	})
	if isNoUpdates(err) {
		return plan, nil
	}
	if err != nil {
		return plan, &StackError{Op: "plan", Stack: in.Name, Err: fmt.Errorf("create change set: %w", err)}
	}
	defer e.dropPlan(ctx, out, plan.Create)
	cs, err := e.waitChangeSet(ctx, aws.ToString(out.Id))
	if err != nil {
		return plan, &StackError{Op: "plan", Stack: in.Name, Err: err}
	}
	if cs.Status == types.ChangeSetStatusFailed {
		if isEmptyChangeSet(aws.ToString(cs.StatusReason)) {
			return plan, nil
		}
		return plan, &StackError{Op: "plan", Stack: in.Name, Reason: "change set failed: " + aws.ToString(cs.StatusReason), Err: ErrFailed}
	}
	if plan.Changes, err = e.changes(ctx, aws.ToString(out.Id)); err != nil {
		return plan, &StackError{Op: "plan", Stack: in.Name, Err: err}
	}
	plan.Params = paramChanges(st.Params, in.Parameters)
	return plan, nil
}

// changes reads every page of a change set's changes, with property values.
func (e *Engine) changes(ctx context.Context, id string) ([]Change, error) {
	var out []Change
	in := &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(id), IncludePropertyValues: aws.Bool(true)}
	for {
		page, err := e.api.DescribeChangeSet(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read change set %s: %w", id, err)
		}
		for _, c := range page.Changes {
			if c.ResourceChange != nil {
				out = append(out, changeFrom(*c.ResourceChange))
			}
		}
		if page.NextToken == nil {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

func changeFrom(r types.ResourceChange) Change {
	c := Change{Action: string(r.Action), LogicalID: aws.ToString(r.LogicalResourceId), Type: aws.ToString(r.ResourceType)}
	if r.Action == types.ChangeActionModify {
		c.Replacement = string(r.Replacement)
	}
	c.IAM = strings.HasPrefix(c.Type, "AWS::IAM::")
	seen := map[string]bool{}
	for _, d := range r.Details {
		t := d.Target
		if t == nil || t.Name == nil || seen[aws.ToString(t.Name)] {
			continue
		}
		seen[aws.ToString(t.Name)] = true
		p := PropertyChange{Name: aws.ToString(t.Name), Before: aws.ToString(t.BeforeValue), After: aws.ToString(t.AfterValue),
			Recreation: string(t.RequiresRecreation)}
		c.IAM = c.IAM || iamProperties[p.Name]
		c.Properties = append(c.Properties, p)
	}
	return c
}

func paramChanges(before, after map[string]string) []ParamChange {
	var out []ParamChange
	for _, k := range sortedKeys(after) {
		if b, ok := before[k]; ok && b != after[k] {
			if b == "****" {
				out = append(out, ParamChange{Key: k, Before: b, After: "****"}) // NoEcho: neither value is shown
				continue
			}
			out = append(out, ParamChange{Key: k, Before: b, After: after[k]})
		}
	}
	return out
}

// dropPlan deletes the plan's change set, and the stack it created to hold
// it (REVIEW_IN_PROGRESS, no resources), with a context of its own: a
// cancelled run still cleans up.
func (e *Engine) dropPlan(ctx context.Context, out *cloudformation.CreateChangeSetOutput, created bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, err := e.api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: out.Id}); err != nil {
		fmt.Fprintf(e.out, "plan: could not delete change set %s: %v\n", aws.ToString(out.Id), err)
	}
	if created {
		if _, err := e.api.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: out.StackId}); err != nil {
			fmt.Fprintf(e.out, "plan: could not delete the empty stack %s: %v\n", aws.ToString(out.StackId), err)
		}
	}
}

// templateAdds lists a template's resources as additions (a failed stack
// is deleted and created anew).
func templateAdds(body string) ([]Change, error) {
	res, err := templateResources(body)
	if err != nil {
		return nil, err
	}
	out := make([]Change, 0, len(res))
	for id, typ := range res {
		out = append(out, Change{Action: string(types.ChangeActionAdd), LogicalID: id, Type: typ, IAM: strings.HasPrefix(typ, "AWS::IAM::")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out, nil
}
