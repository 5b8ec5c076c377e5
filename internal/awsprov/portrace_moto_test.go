package awsprov

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Another runner's preview takes the listener port this deploy allocated,
// between the allocation and the create. AWS then fails this stack's
// PreviewListener with DuplicateListener, "A listener already exists on
// this port for this load balancer '<arn>'" (ELBv2 API Reference,
// CreateListener, Errors: DuplicateListener; the message as AWS words it
// in hashicorp/terraform#26407), and the stack ends ROLLBACK_COMPLETE; moto
// raises DuplicateListener from the create itself, so the hook answers the
// create with that error. The deploy allocates another port and succeeds.
func testPortRace(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("pace", "")
	p.o.Shared.PreviewPortFirst, p.o.Shared.PreviewPortLast = 9101, 9103
	must(t, p.EnsureShared(ctx))
	shared, err := p.Shared(ctx)
	must(t, err)
	create := e.inj.hook("CreateChangeSet")
	var taken string
	e.inj.on("CreateChangeSet", func(params any, next func() (any, error)) (any, error) {
		in := params.(*cloudformation.CreateChangeSetInput)
		if aws.ToString(in.StackName) == "pace-pr-1" && taken == "" {
			for _, prm := range in.Parameters {
				if aws.ToString(prm.ParameterKey) == "ListenerPort" {
					taken = aws.ToString(prm.ParameterValue)
				}
			}
			port, _ := strconv.Atoi(taken)
			tg := otherTargetGroup(t, e, "pace-other")
			_, err := e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(shared.Previews.LoadBalancerARN),
				Port: aws.Int32(int32(port)), Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: forward([]TargetWeight{{tg, 1}}, 0)})
			must(t, err)
			return nil, &elbtypes.DuplicateListenerException{Message: aws.String("A listener already exists on this port for this load balancer '" + shared.Previews.LoadBalancerARN + "'")}
		}
		return create(params, next)
	})
	defer e.inj.on("CreateChangeSet", create)
	_, err = p.Deploy(ctx, previewSpec("pace", 1, "pace"))
	must(t, err)
	if got := stackParam(t, e, "pace-pr-1", "ListenerPort"); got == taken || got == "" {
		t.Errorf("deployed on port %q, the one taken was %q: want another", got, taken)
	}
	if !strings.Contains(e.log.String(), "pace-pr-1: listener port "+taken+" was taken by another deploy meanwhile") {
		t.Errorf("the retry was not reported:\n%s", e.log.String())
	}
}
