package cfnstack

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/slipway/slipway/internal/testenv/awsfault"
)

func testModify(t *testing.T, endpoint string) {
	t.Run("a parameter and a tag change in place with the stack's own template; the rest is kept", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "modify-1")
		st, err := e.eng.Modify(context.Background(), ModifyInput{Name: "modify-1", Parameters: map[string]string{"Value": "v2"},
			Tags: map[string]string{"slipway:state": "failed", "slipway:pr": ""}})
		if err != nil {
			t.Fatal(err)
		}
		if st.Params["Value"] != "v2" || st.Tags["slipway:state"] != "failed" || st.Tags["slipway:app"] != "demo" || st.State != StateHealthy {
			t.Errorf("after Modify: params %v tags %v state %s; want Value v2, the new tag, the old ones kept, healthy", st.Params, st.Tags, st.State)
		}
		if _, gone := st.Tags["slipway:pr"]; gone {
			t.Error("a tag set to \"\" was kept, want it removed")
		}
		in := e.inj.Sent("UpdateStack")[0].(*cloudformation.UpdateStackInput)
		if !aws.ToBool(in.UsePreviousTemplate) || in.TemplateBody != nil || aws.ToString(in.ClientRequestToken) == "" {
			t.Errorf("UpdateStack %+v, want the previous template and a request token", in)
		}
	})

	t.Run("no change at all is success", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "modify-2")
		if _, err := e.eng.Modify(context.Background(), ModifyInput{Name: "modify-2", Parameters: map[string]string{"Value": "v1"}}); err != nil {
			t.Fatalf("a Modify that changes nothing: %v", err)
		}
	})

	t.Run("a stack still busy after the bound gets ErrBusy and no update", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "modify-3")
		// AWS: another run's update keeps the stack UPDATE_IN_PROGRESS;
		// moto finishes at once, so its status is rewritten.
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			return withStatus(res, err, "modify-3", "UPDATE_IN_PROGRESS", "")
		})
		_, err := e.eng.Modify(context.Background(), ModifyInput{Name: "modify-3", Parameters: map[string]string{"Value": "v2"}, Next: "go run mage.go status"})
		var se *StackError
		if !errors.Is(err, ErrBusy) || !errors.As(err, &se) || se.Next != "go run mage.go status" {
			t.Fatalf("Modify of a busy stack: %v, want ErrBusy with the next command", err)
		}
		if n := e.inj.Count("UpdateStack"); n != 0 {
			t.Errorf("%d UpdateStack calls on a busy stack, want none", n)
		}
	})
}
