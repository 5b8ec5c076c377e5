package awsprov

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// A preview that Fargate Spot has no capacity for is deployed once more on
// regular Fargate, and says so. Real AWS: ECS cannot place the task, says
// "(service …) was unable to place a task. Reason: Capacity is unavailable
// at this time. Please try again later or in a different availability
// zone." in the service's events and retries until Spot capacity returns,
// never falling back to on-demand by itself (Amazon ECS Best Practices
// Guide, "Amazon ECS clusters for Fargate", Fargate Spot; the message as
// AWS re:Post's "ecs-fargate-runtask-capacity" quotes it). moto places
// every task at once, so that event is injected into DescribeServices
// while the stack is still on its first change set (on Spot).
func TestSpotCapacityRetriedOnDemandOnMoto(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	p := e.provider("spot", "")
	must(t, p.EnsureShared(ctx))
	first := e.inj.count("CreateChangeSet")
	e.inj.on("DescribeServices", func(_ any, next func() (any, error)) (any, error) {
		res, err := next()
		out, ok := res.(*ecs.DescribeServicesOutput)
		if !ok || err != nil || e.inj.count("CreateChangeSet") != first+1 {
			return res, err
		}
		for i := range out.Services {
			s := &out.Services[i]
			s.RunningCount, s.PendingCount = 0, 0
			s.Events = append(s.Events, ecstypes.ServiceEvent{CreatedAt: aws.Time(time.Now()), Message: aws.String(
				"(service spot-pr-3-Service-x) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.")})
			for j := range s.Deployments {
				s.Deployments[j].RunningCount, s.Deployments[j].RolloutState = 0, ecstypes.DeploymentRolloutStateInProgress
			}
		}
		return out, nil
	})
	defer e.inj.on("DescribeServices", nil)

	st, err := p.Deploy(ctx, previewSpec("spot", 3, ""))
	must(t, err)
	defer func() { must(t, p.Delete(ctx, st.Name)) }()
	if got := stackParam(t, e, st.Name, "CapacityProvider"); got != "FARGATE" {
		t.Errorf("CapacityProvider %q after Spot had no capacity, want FARGATE", got)
	}
	if n := e.inj.count("CreateChangeSet") - first; n != 2 {
		t.Errorf("%d change sets, want 2: the Spot deploy and one on regular Fargate", n)
	}
	if log := e.log.String(); !strings.Contains(log, "spot-pr-3: stack spot-pr-3: no Fargate Spot capacity for the task (ECS: \"(service spot-pr-3-Service-x) was unable to place a task. Reason: Capacity is unavailable at this time.") ||
		!strings.Contains(log, "deploying it once more on regular Fargate") {
		t.Errorf("log does not say why and what it does:\n%s", log)
	}
}
