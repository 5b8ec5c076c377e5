package scaffold

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// instruction is one Dockerfile instruction as the builder reads it: its
// continuation lines joined, comments and heredoc bodies left out.
type instruction struct {
	Line int    // the line it starts on, from 1
	Cmd  string // upper case: FROM, EXPOSE, HEALTHCHECK …
	Args string // the rest of the instruction
}

// instructions reads a Dockerfile with BuildKit's own parser (the one the
// engine builds it with): directives, continuations, comments and heredoc
// bodies are the parser's. Only each instruction's line, name and raw
// arguments are kept: finding EXPOSE and HEALTHCHECK needs no more.
func instructions(data []byte) ([]instruction, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read the Dockerfile: %w", err)
	}
	out := make([]instruction, 0, len(res.AST.Children))
	for _, n := range res.AST.Children {
		_, args, _ := strings.Cut(strings.TrimSpace(n.Original), " ")
		out = append(out, instruction{Line: n.StartLine, Cmd: strings.ToUpper(n.Value), Args: strings.TrimSpace(args)})
	}
	return out, nil
}

// lastStage is the instructions of the final build stage: those after the
// last FROM (all of them when there is none). Its image is the one that runs.
func lastStage(ins []instruction) []instruction {
	for i := len(ins) - 1; i >= 0; i-- {
		if ins[i].Cmd == "FROM" {
			return ins[i+1:]
		}
	}
	return ins
}

// exposedPort returns the TCP port the final stage EXPOSEs, its line, and
// 0 when it exposes none. More than one port, a range or a variable is an
// error: only the user knows which port serves HTTP.
func exposedPort(stage []instruction) (port, line int, err error) {
	var ports []int
	for _, in := range stage {
		if in.Cmd != "EXPOSE" {
			continue
		}
		for _, f := range strings.Fields(in.Args) {
			num, proto, _ := strings.Cut(f, "/")
			switch p, convErr := strconv.Atoi(num); {
			case strings.EqualFold(proto, "udp"):
			case proto != "" && !strings.EqualFold(proto, "tcp"):
				return 0, in.Line, fmt.Errorf("the Dockerfile, line %d: EXPOSE %s: unknown protocol %q", in.Line, f, proto)
			case strings.Contains(num, "$"):
				return 0, in.Line, fmt.Errorf("the Dockerfile, line %d: EXPOSE %s is a variable", in.Line, f)
			case strings.Contains(num, "-"):
				return 0, in.Line, fmt.Errorf("the Dockerfile, line %d: EXPOSE %s is a range of ports", in.Line, f)
			case convErr != nil || p < 1 || p > 65535:
				return 0, in.Line, fmt.Errorf("the Dockerfile, line %d: EXPOSE %s is not a port", in.Line, f)
			default:
				if !slices.Contains(ports, p) {
					ports = append(ports, p)
				}
				line = in.Line
			}
		}
	}
	switch len(ports) {
	case 0:
		return 0, 0, nil
	case 1:
		return ports[0], line, nil
	default:
		return 0, line, fmt.Errorf("the Dockerfile exposes %s", joinInts(ports))
	}
}

var healthURLRe = regexp.MustCompile(`https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d+)?(/[A-Za-z0-9/._~-]*)`)

// healthPath returns the URL path the final stage's HEALTHCHECK requests of
// the app itself (curl, wget or a script fetching http://localhost:PORT/PATH)
// and its line, or "" when there is no such check.
func healthPath(stage []instruction) (path string, line int) {
	for _, in := range stage {
		if in.Cmd != "HEALTHCHECK" {
			continue
		}
		path, line = "", 0 // the last HEALTHCHECK wins
		if m := healthURLRe.FindStringSubmatch(in.Args); m != nil && m[1] != "" {
			path, line = m[1], in.Line
		}
	}
	return path, line
}

func joinInts(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
