package image

import "testing"

// The engine's words about a frontend image name its repository in a
// registry URL or as a reference; a failing step of the Dockerfile does not.
func TestFrontendFailuresAreToldFromFailingSteps(t *testing.T) {
	tests := map[string]struct {
		frontend, msg string
		want          bool
	}{
		"Docker Hub's frontend, unreachable": {"docker/dockerfile:1.7",
			`failed to do request: Head "https://registry-1.docker.io/v2/docker/dockerfile/manifests/1.7": dial tcp: lookup registry-1.docker.io: no such host`, true},
		"a frontend by digest": {"docker.io/docker/dockerfile@sha256:ac85f380a63b13dfcefa89046420e1781752bab202122f8f50032edf31be0021",
			`docker.io/docker/dockerfile@sha256:ac85: not found`, true},
		"a frontend from a registry with a port": {"127.0.0.1:9/team/frontend:1",
			`Head "http://127.0.0.1:9/v2/team/frontend/manifests/1": connect: connection refused`, true},
		"a RUN that fails": {"docker/dockerfile:1.7",
			`executor failed running [/bin/sh -c exit 3]: exit code: 3`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := frontendFailed(tc.msg, tc.frontend); got != tc.want {
				t.Errorf("frontendFailed = %v, want %v", got, tc.want)
			}
		})
	}
	got := withoutFrontends("failed to solve with frontend dockerfile.v0: failed to solve with frontend gateway.v0: failed to do request: boom")
	if got != "failed to do request: boom" {
		t.Errorf("withoutFrontends = %q", got)
	}
}
