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
package awsprov
