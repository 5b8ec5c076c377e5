package awsprov

import (
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// errSpotCapacity is a preview on Fargate Spot that ECS cannot place for
// want of Spot capacity. ECS keeps retrying such a service until capacity
// comes back and never falls back to regular Fargate by itself (Amazon ECS
// Best Practices Guide, "Amazon ECS clusters for Fargate", Fargate Spot);
// its service events say "unable to place a task. Reason: Capacity is
// unavailable at this time". Deploy then deploys the preview once more on
// regular Fargate (DeployParams.OnDemand).
var errSpotCapacity = errors.New("no Fargate Spot capacity for the task")

// spotCapacityMessage is what ECS's service event says.
const spotCapacityMessage = "Capacity is unavailable at this time"

// noSpotCapacity returns the service's newest event since since that says
// Spot capacity is unavailable, or "".
func noSpotCapacity(svc ecstypes.Service, since time.Time) string {
	var newest ecstypes.ServiceEvent
	for _, e := range svc.Events {
		if strings.Contains(aws.ToString(e.Message), spotCapacityMessage) && !aws.ToTime(e.CreatedAt).Before(since) &&
			aws.ToTime(e.CreatedAt).After(aws.ToTime(newest.CreatedAt)) {
			newest = e
		}
	}
	return aws.ToString(newest.Message)
}
