// Package cfnstack is Slipway's CloudFormation stack engine: it creates,
// updates and deletes one stack at a time through change sets, reads the
// stack's status before acting so a re-run converges, waits with a bound
// while printing each new stack event once, and reports a failure as a
// *StackError naming the first failed resource, its reason and the command
// to run next.
//
// What it does per status, on Upsert:
//
//	absent, REVIEW_IN_PROGRESS          create through a CREATE change set
//	*_COMPLETE (healthy, rolled back)   update through an UPDATE change set;
//	                                    an empty change set is deleted: unchanged
//	ROLLBACK_COMPLETE, ROLLBACK_FAILED  delete, wait, re-create (refused with
//	                                    ErrLive if Input.Live says it serves traffic)
//	UPDATE_ROLLBACK_FAILED              ContinueUpdateRollback, wait, update
//	*_IN_PROGRESS                       wait up to Options.BusyTimeout, else ErrBusy
//	DELETE_FAILED                       refused: Delete it first
//
// After a create or an update, Input.TerminationProtection is turned on if
// the stack does not have it yet: a run whose first attempt failed
// (denied, throttled) converges on the next.
//
// Plan (-diff) creates the change set Upsert would, reads what it adds,
// modifies (replacing or not) and removes, the parameters and the IAM
// changes, and deletes it without executing it (Plan.Write prints it).
//
// Every change set and in-place update names the template's resource types
// (ResourceTypes), which IAM's cloudformation:ResourceTypes condition reads.
//
// Delete retries a DELETE_FAILED stack retaining the resources that failed,
// and reports them as orphans. A cancelled context (Ctrl-C) stops the
// watching, not CloudFormation: the error (ErrInterrupted) says the stack's
// state and the next run reconciles.
//
// Usage:
//
//	cfg, err := awsenv.Load(ctx, awsenv.Settings{Region: region})
//	if err != nil { return err }
//	eng := cfnstack.New(cloudformation.NewFromConfig(cfg), os.Stderr, cfnstack.Options{})
//	res, err := eng.Upsert(ctx, cfnstack.Input{
//		Name:         "slipway-pr-42",
//		Template:     body,
//		Parameters:   map[string]string{"Image": ref},
//		Tags:         map[string]string{"slipway:app": "demo", "slipway:pr": "42"},
//		Capabilities: []types.Capability{types.CapabilityCapabilityNamedIam},
//		Next:         "go run mage.go preview:destroy 42",
//	})
//	var se *cfnstack.StackError
//	if errors.As(err, &se) {
//		// se.Resource, se.Reason, se.Next; errors.Is(err, cfnstack.ErrBusy) ...
//	}
//	fmt.Println(res.Action, res.Stack.Outputs["URL"])
package cfnstack
