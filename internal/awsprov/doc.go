// Package awsprov is the aws target: deploy.Target on CloudFormation
// (through package cfnstack, with the templates of package infra), ECS
// Fargate and one shared ALB.
//
// The cloud is the state. Stacks carry tags (app, role, PR, commit, image
// digest, created-at, host) that Stacks and Routes read back; each deploy
// stack owns its listener rule (a preview's host, or the X-Slipway-Stack
// test header) at a priority allocated here, and, without a domain, a
// listener port on the shared ALB. Production traffic goes through one rule
// the tool owns through the ELBv2 API (Traffic): created once at the lowest
// priority, moved with one ModifyRule, never written in a template, so a
// shared-stack update cannot reset what a release set.
//
// Files are named by the part of deploy.Target they implement, alike in
// packages local and awsprov, so finding one finds the other: provider.go
// (Options, New), shared.go (EnsureShared), deploy.go (Deploy), stacks.go
// (Stacks), routes.go (Routes, SetHost, SetProduction, Delete), lifecycle.go
// (ScaleUp, ScaleDown, MarkFailed), lastlive.go (when a stack last had
// production traffic), lock.go (TryLock), metrics.go (Sample), dbserver.go
// (deploy.DatabaseServer, the database primitives) and dbrun.go (RunOnce, a
// one-off run of the app image). The other files are this target's own: the
// ALB's rules, ports and weights (elb.go, traffic.go, alloc.go), the ECS
// rollout checks (ecs.go) and why a rollout never got healthy (ecsdiag.go),
// the shared stack's ECR repository (registry.go), removing the whole app
// (teardown.go), stack failures (errors.go), the RDS Data API
// executor (dbexec.go) and the preview databases' trust split (dbtrust.go).
package awsprov
