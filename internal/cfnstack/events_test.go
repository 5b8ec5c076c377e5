package cfnstack

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/internal/testenv/awsfault"
)

func testEventsAndThrottling(t *testing.T, endpoint string) {

	t.Run("a failed update prints each event once, in order, and names the first failed resource", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		st := e.mustCreate(t, "events-1")
		e.out.Reset()
		const why = `Resource handler returned message: "Parameter value exceeds 4096 characters"`
		at := st.Created
		// Real AWS: an update whose resource fails goes UPDATE_IN_PROGRESS,
		// UPDATE_ROLLBACK_IN_PROGRESS, UPDATE_ROLLBACK_COMPLETE, and records
		// one event per resource step, newest first, 100 a page; a resource
		// cut short by another's failure says "Resource update cancelled".
		// moto applies the update at once and records two stack events.
		script := []types.StackEvent{
			event(st, "u1", "events-1", "", "UPDATE_IN_PROGRESS", "User Initiated", at.Add(1)),
			event(st, "u2", "Param", "AWS::SSM::Parameter", "UPDATE_IN_PROGRESS", "", at.Add(2)),
			event(st, "u3", "Param", "AWS::SSM::Parameter", "UPDATE_FAILED", why, at.Add(3)),
			event(st, "u4", "Other", "AWS::SSM::Parameter", "UPDATE_FAILED", "Resource update cancelled", at.Add(4)),
			event(st, "u5", "events-1", "", "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [Param].", at.Add(5)),
			event(st, "u6", "Param", "AWS::SSM::Parameter", "UPDATE_COMPLETE", "", at.Add(6)),
			event(st, "u7", "events-1", "", "UPDATE_ROLLBACK_COMPLETE", "", at.Add(7)),
		}
		statuses := []string{"UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"}
		revealed := []int{2, 4, 6, 7} // events recorded by the time of each status read
		polls := 0
		executed := func() bool { return e.inj.Count("ExecuteChangeSet") == 2 }
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if !executed() {
				return res, err
			}
			polls++
			return withStatus(res, err, "events-1", statuses[min(polls, len(statuses))-1], "")
		})
		e.inj.On("DescribeStackEvents", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			out, ok := res.(*cloudformation.DescribeStackEventsOutput)
			if !ok || err != nil || !executed() {
				return res, err
			}
			// moto's own events first, then the script's, served newest
			// first in pages of two.
			all := slices.Clone(out.StackEvents)
			for _, ev := range script[:revealed[min(polls, len(revealed))-1]] {
				all = append([]types.StackEvent{ev}, all...)
			}
			from := 0
			if tok := aws.ToString(c.Params.(*cloudformation.DescribeStackEventsInput).NextToken); tok != "" {
				from = int(tok[0] - '0')
			}
			out.StackEvents, out.NextToken = all[from:min(from+2, len(all))], nil
			if from+2 < len(all) {
				out.NextToken = aws.String(string(rune('0' + from + 2)))
			}
			return out, nil
		})
		_, err := e.eng.Upsert(context.Background(), e.input("events-1", "v2"))
		var se *StackError
		if !errors.As(err, &se) || !errors.Is(err, ErrFailed) {
			t.Fatalf("err = %v, want a *StackError wrapping ErrFailed", err)
		}
		if se.Resource != "Param" || se.ResourceType != "AWS::SSM::Parameter" || se.Reason != why || se.Status != "UPDATE_ROLLBACK_COMPLETE" {
			t.Errorf("error names %s (%s) %q in %s; want Param, its reason, UPDATE_ROLLBACK_COMPLETE", se.Resource, se.ResourceType, se.Reason, se.Status)
		}
		for _, want := range []string{"first failed resource Param (AWS::SSM::Parameter)", why, "next: run `go run mage.go preview:destroy 42`"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		var got []string
		for _, l := range e.out.Lines() {
			f := strings.Fields(l)
			if len(f) >= 4 {
				got = append(got, f[2]+" "+f[3])
			}
		}
		want := []string{
			"UPDATE_IN_PROGRESS events-1", "UPDATE_COMPLETE events-1", // moto's own, new since the change set ran
			"UPDATE_IN_PROGRESS events-1", "UPDATE_IN_PROGRESS Param", "UPDATE_FAILED Param", "UPDATE_FAILED Other",
			"UPDATE_ROLLBACK_IN_PROGRESS events-1", "UPDATE_COMPLETE Param", "UPDATE_ROLLBACK_COMPLETE events-1",
		}
		if !slices.Equal(got, want) {
			t.Errorf("printed events:\n%s\nwant, in this order, once each:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("throttled status reads are retried: the create succeeds, once", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		// Real AWS: CloudFormation answers Throttling "Rate exceeded" when
		// an account polls too often (many previews deploying at once).
		// Three in a row on the first read, one on the wait's first read.
		throttles := 0
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			if c.N <= 3 || c.N == 5 {
				throttles++
				return nil, throttled()
			}
			return c.Next()
		})
		res, err := e.eng.Upsert(context.Background(), e.input("throttle-1", "v1"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Created || res.Stack.State != StateHealthy {
			t.Fatalf("got %s %s, want created and healthy", res.Action, res.Stack.State)
		}
		if throttles != 4 {
			t.Fatalf("%d throttled answers, want 4 (the test did not throttle what it meant to)", throttles)
		}
		if e.inj.Count("CreateChangeSet") != 1 || e.inj.Count("ExecuteChangeSet") != 1 {
			t.Errorf("CreateChangeSet %d, ExecuteChangeSet %d: want exactly one create", e.inj.Count("CreateChangeSet"), e.inj.Count("ExecuteChangeSet"))
		}
	})

	t.Run("constant throttling gives up after the retryer's attempts, creating nothing", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		// Real AWS: as above, sustained.
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) { return nil, throttled() })
		_, err := e.eng.Upsert(context.Background(), e.input("throttle-2", "v1"))
		if err == nil || !strings.Contains(err.Error(), "Rate exceeded") || !strings.Contains(err.Error(), "describe stack throttle-2") {
			t.Fatalf("err = %v, want the throttling error, naming the call", err)
		}
		if n := e.inj.Count("DescribeStacks"); n != 10 {
			t.Errorf("%d DescribeStacks attempts, want 10 (awsenv's retryer)", n)
		}
		if n := e.inj.Count("CreateChangeSet"); n != 0 {
			t.Errorf("%d CreateChangeSet calls, want none", n)
		}
	})
}
