package awsprov

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// createAsStack works around moto 5.2.5 never filling the Outputs of a
// stack created through a CREATE change set (real AWS returns them once
// the stack is CREATE_COMPLETE; the provider chains shared outputs into
// deploy stacks, so it needs them). A CREATE change set is sent to moto as
// CreateStack with the same template, parameters, tags and capabilities,
// which creates the same resources and fills Outputs; its DescribeChangeSet
// and ExecuteChangeSet are answered as AWS answers a change set that was
// created and then executed. UPDATE change sets go to moto unchanged.
type createAsStack struct {
	cf  *cloudformation.Client // straight to moto
	mu  sync.Mutex
	ids map[string]string // change set ID -> stack ID
}

func installCreateAsStack(inj *injector, cf *cloudformation.Client) {
	c := &createAsStack{cf: cf, ids: map[string]string{}}
	inj.on("CreateChangeSet", c.create)
	inj.on("DescribeChangeSet", c.describe)
	inj.on("ExecuteChangeSet", c.execute)
}

func (c *createAsStack) create(params any, next func() (any, error)) (any, error) {
	in := params.(*cloudformation.CreateChangeSetInput)
	if in.ChangeSetType != cfntypes.ChangeSetTypeCreate {
		return next()
	}
	out, err := c.cf.CreateStack(context.Background(), &cloudformation.CreateStackInput{
		StackName: in.StackName, TemplateBody: in.TemplateBody, Parameters: in.Parameters,
		Tags: in.Tags, Capabilities: in.Capabilities,
	})
	if err != nil {
		return nil, err
	}
	id := strings.Replace(aws.ToString(out.StackId), ":stack/", ":changeSet/", 1) + "-" + aws.ToString(in.ChangeSetName)
	c.mu.Lock()
	c.ids[id] = aws.ToString(out.StackId)
	c.mu.Unlock()
	return &cloudformation.CreateChangeSetOutput{Id: aws.String(id), StackId: out.StackId}, nil
}

func (c *createAsStack) stackOf(name *string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.ids[aws.ToString(name)]
	return s, ok
}

func (c *createAsStack) describe(params any, next func() (any, error)) (any, error) {
	in := params.(*cloudformation.DescribeChangeSetInput)
	stack, ok := c.stackOf(in.ChangeSetName)
	if !ok {
		return next()
	}
	return &cloudformation.DescribeChangeSetOutput{ChangeSetId: in.ChangeSetName, StackId: aws.String(stack),
		Status: cfntypes.ChangeSetStatusCreateComplete, ExecutionStatus: cfntypes.ExecutionStatusAvailable,
		Changes: []cfntypes.Change{{Type: cfntypes.ChangeTypeResource}}}, nil
}

func (c *createAsStack) execute(params any, next func() (any, error)) (any, error) {
	if _, ok := c.stackOf(params.(*cloudformation.ExecuteChangeSetInput).ChangeSetName); !ok {
		return next()
	}
	return &cloudformation.ExecuteChangeSetOutput{}, nil
}
