// Package github connects Slipway to GitHub.
//
// Detect works out what a run is for — a pull request preview to deploy or
// destroy, a release of the default branch, a scheduled cleanup, or nothing
// (with the reason) — from the GitHub Actions event, from the git checkout on
// a laptop, or from explicit arguments. Context.AWSDeployAllowed keeps code
// from forks away from AWS credentials.
//
// Publisher reports a preview back to the pull request: one sticky comment
// (found again by a hidden marker), a GitHub Deployment per preview with its
// statuses, and the slipway/integration commit status. A token that may not
// write (forks get a read-only one) produces a one-line warning, not a failed
// deploy. StepSummary and Annotate write the Markdown summary and the
// ::error:: workflow commands of a GitHub Actions step.
//
// REST calls go through Requester, the one method of go-gh's
// *api.RESTClient this package uses; rendering is pure and golden-tested.
package github
