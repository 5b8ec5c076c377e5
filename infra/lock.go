package infra

// LockTableName is the DynamoDB table of the app's lease (one item, written
// with conditional writes), created by the shared stack as ${App}-slipway-lock.
func LockTableName(app string) string { return app + "-slipway-lock" }
