package scaffold

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// instruction is one Dockerfile instruction as the builder reads it: its
// continuation lines joined, comments and heredoc bodies left out.
type instruction struct {
	Line int    // the line it starts on, from 1
	Cmd  string // upper case: FROM, EXPOSE, HEALTHCHECK …
	Args string // the rest of the instruction
}

var (
	directiveRe = regexp.MustCompile(`^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(\S+)\s*$`)
	heredocRe   = regexp.MustCompile(`<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)["']?`)
)

// instructions reads a Dockerfile the way its builder splits it, which is
// all that finding EXPOSE and HEALTHCHECK needs: parser directives at the
// top (an escape= directive changes the continuation character), comment
// and blank lines, instructions continued over several lines, and heredoc
// bodies of RUN, COPY and ADD (whose lines are file or script content,
// never instructions). It parses no instruction's arguments.
func instructions(data []byte) []instruction {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	escape := byte('\\')
	i := 0
	for ; i < len(lines); i++ { // parser directives: only before anything else
		m := directiveRe.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			break
		}
		if strings.EqualFold(m[1], "escape") && (m[2] == "`" || m[2] == `\`) {
			escape = m[2][0]
		}
	}
	var out []instruction
	for i < len(lines) {
		text := strings.TrimSpace(lines[i])
		start := i
		i++
		if text == "" || text[0] == '#' {
			continue
		}
		for strings.HasSuffix(text, string(escape)) && i < len(lines) {
			text = strings.TrimSuffix(text, string(escape))
			next := strings.TrimSpace(lines[i])
			i++
			if next == "" || next[0] == '#' { // comments inside a continuation are dropped
				text += " "
				continue
			}
			text += " " + next
		}
		text = strings.TrimSuffix(text, string(escape))
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{Line: start + 1, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		out = append(out, in)
		if in.Cmd == "RUN" || in.Cmd == "COPY" || in.Cmd == "ADD" {
			i = skipHeredocs(lines, i, in.Args)
		}
	}
	return out
}

// skipHeredocs returns the index of the first line after the bodies of the
// heredocs args opens (<<EOF, <<-EOF, <<"EOF"), which start at line i.
func skipHeredocs(lines []string, i int, args string) int {
	for _, m := range heredocRe.FindAllStringSubmatch(args, -1) {
		for ; i < len(lines); i++ {
			line := lines[i]
			if m[1] == "-" {
				line = strings.TrimLeft(line, "\t")
			}
			if line == m[3] {
				i++
				break
			}
		}
	}
	return i
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
