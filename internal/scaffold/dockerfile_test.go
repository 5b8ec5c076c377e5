package scaffold

import (
	"strings"
	"testing"
)

func TestExposedPortIsTheLastStagesOnlyTCPPort(t *testing.T) {
	for _, tc := range []struct {
		name       string
		dockerfile string
		port, line int
		err        string // a substring of the error; "" for none
	}{
		{name: "one EXPOSE", dockerfile: "FROM debian\nEXPOSE 5000\n", port: 5000, line: 2},
		{name: "the last stage's EXPOSE, not a builder stage's", dockerfile: "FROM golang AS build\nEXPOSE 9000\nFROM debian\nCOPY --from=build /app /app\nEXPOSE 3000/tcp\n", port: 3000, line: 5},
		{name: "a builder stage's EXPOSE does not count", dockerfile: "FROM golang AS build\nEXPOSE 9000\nFROM scratch\n"},
		{name: "no EXPOSE", dockerfile: "FROM debian\nCMD [\"app\"]\n"},
		{name: "lower-case instruction and a repeated port", dockerfile: "FROM debian\nexpose 5000\nEXPOSE 5000/tcp\n", port: 5000, line: 3},
		{name: "UDP ports are not HTTP", dockerfile: "FROM debian\nEXPOSE 5353/udp 8000\n", port: 8000, line: 2},
		{name: "continued over lines, with a comment inside", dockerfile: "FROM debian\nRUN apt-get update \\\n# EXPOSE 1111\n  && true\nEXPOSE \\\n  7000\n", port: 7000, line: 5},
		{name: "a comment is not an instruction", dockerfile: "FROM debian\n# EXPOSE 1111\n  # EXPOSE 2222\nEXPOSE 7000\n", port: 7000, line: 4},
		{name: "the escape directive makes ` the continuation", dockerfile: "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  C:\\\nEXPOSE `\n  8081\n", port: 8081, line: 5},
		{name: "a backslash is text under the ` escape", dockerfile: "# escape=`\nFROM w\nRUN echo C:\\\nEXPOSE 8081\n", port: 8081, line: 4},
		{name: "a heredoc's body is script text", dockerfile: "FROM debian\nRUN <<EOF\nset -e\nEXPOSE 1111\nEOF\nCOPY <<-'CONF' /etc/app.conf\n\tEXPOSE 2222\n\tCONF\nEXPOSE 4000\n", port: 4000, line: 9},
		{name: "CRLF line ends", dockerfile: "FROM debian\r\nEXPOSE 4500\r\n", port: 4500, line: 2},
		{name: "two ports: which serves HTTP is the user's call", dockerfile: "FROM debian\nEXPOSE 5000 9090\n", err: "the Dockerfile exposes 5000 and 9090"},
		{name: "a variable", dockerfile: "FROM debian\nARG PORT=5000\nEXPOSE $PORT\n", err: "EXPOSE $PORT is a variable"},
		{name: "a range", dockerfile: "FROM debian\nEXPOSE 5000-5010\n", err: "is a range of ports"},
		{name: "not a port", dockerfile: "FROM debian\nEXPOSE 70000\n", err: "EXPOSE 70000 is not a port"},
		{name: "an unknown protocol", dockerfile: "FROM debian\nEXPOSE 5000/sctp\n", err: `unknown protocol "sctp"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port, line, err := exposedPort(lastStage(mustInstructions(t, []byte(tc.dockerfile))))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("exposedPort: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("exposedPort error = %v; want one containing %q", err, tc.err)
			case tc.err == "" && (port != tc.port || line != tc.line):
				t.Errorf("exposedPort = %d at line %d; want %d at line %d", port, line, tc.port, tc.line)
			}
		})
	}
}

func TestHealthPathIsWhatTheHealthcheckRequestsOfTheApp(t *testing.T) {
	for _, tc := range []struct {
		name, healthcheck, want string
	}{
		{"curl", `HEALTHCHECK CMD curl -fsS http://localhost:3000/healthz || exit 1`, "/healthz"},
		{"wget with options", `HEALTHCHECK --interval=5s CMD wget -qO- http://127.0.0.1:8000/status/ready`, "/status/ready"},
		{"a script in exec form", `HEALTHCHECK CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health')"]`, "/health"},
		{"continued over lines", "HEALTHCHECK --retries=3 \\\n  CMD curl -f http://localhost/up", "/up"},
		{"NONE", `HEALTHCHECK NONE`, ""},
		{"a check of another host is not the app's", `HEALTHCHECK CMD curl -f https://example.com/health`, ""},
		{"a command without a URL", `HEALTHCHECK CMD ["/app", "-healthcheck"]`, ""},
		{"the root path is not a health path", `HEALTHCHECK CMD curl -f http://localhost:8080`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := healthPath(lastStage(mustInstructions(t, []byte("FROM debian\n"+tc.healthcheck+"\n"))))
			if got != tc.want {
				t.Errorf("healthPath = %q; want %q", got, tc.want)
			}
		})
	}
	t.Run("the last HEALTHCHECK wins", func(t *testing.T) {
		df := "FROM debian\nHEALTHCHECK CMD curl http://localhost/a\nHEALTHCHECK NONE\n"
		if got, _ := healthPath(lastStage(mustInstructions(t, []byte(df)))); got != "" {
			t.Errorf("healthPath = %q; want none: HEALTHCHECK NONE came last", got)
		}
	})
}

func mustInstructions(t *testing.T, data []byte) []instruction {
	t.Helper()
	ins, err := instructions(data)
	if err != nil {
		t.Fatal(err)
	}
	return ins
}
