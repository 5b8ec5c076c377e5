// Package local is the local target: Docker containers on this machine stand
// in for ECS services, and the Slipway router container stands in for the
// shared ALB. Container labels are the state; nothing else is stored.
//
// Files are named by the part of deploy.Target they implement, alike in
// packages local and awsprov, so finding one finds the other: provider.go
// (Options, New), shared.go (EnsureShared), deploy.go (Deploy), stacks.go
// (Stacks), routes.go (Routes, SetHost, SetProduction, Delete), lifecycle.go
// (ScaleUp, ScaleDown, MarkFailed), lastlive.go (when a stack last had
// production traffic), lock.go (TryLock), metrics.go (Sample), dbserver.go
// (deploy.DatabaseServer, the database primitives) and dbrun.go (RunOnce, a
// one-off run of the app image). The other files are this target's own: the
// app's port, health check and secrets as its containers get them
// (app.go), each stack's own port on the router (ports.go), the Postgres
// container (database.go), the router's admin network and token
// (adminnet.go, token.go), container labels (labels.go), local:down
// (down.go) and the Docker connection (connect.go).
package local
