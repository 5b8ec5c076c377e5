package build

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// schemaTimeout bounds the app's `schema` command, which only prints.
const schemaTimeout = 30 * time.Second

// schemaArgs runs the compiled app's `schema` command and returns the
// Dockerfile's build arguments SCHEMA_HEAD, SCHEMA_MIN and
// SCHEMA_CONTRACTS, so the image's dev.slipway.schema.* labels always say
// what its migrations do: Slipway trusts them (no migrate run for a
// database at the head, contract migrations held, rollbacks refused), and
// a default in the Dockerfile can go stale. The binary is built for Linux
// on this machine's architecture; elsewhere (macOS) it cannot run here and
// the Dockerfile's defaults stay, said on log.
func schemaArgs(ctx context.Context, bin string, log io.Writer) (map[string]string, error) {
	if runtime.GOOS != "linux" {
		fmt.Fprintf(log, "build: schema labels from the Dockerfile's defaults (a Linux binary cannot run on %s to print its schema)\n", runtime.GOOS)
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, schemaTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "schema")
	cmd.Env = []string{"LANG=C"} // the schema needs no setting; no secret reaches it
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("read the app's schema (`app schema`): %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseSchema(stdout.Bytes())
}

// parseSchema turns what `app schema` prints into the build arguments.
func parseSchema(out []byte) (map[string]string, error) {
	var s struct {
		Head       *int64 `json:"head"`
		Min        *int64 `json:"min"`
		Migrations []struct {
			Version int64  `json:"version"`
			Name    string `json:"name"`
			Kind    string `json:"kind"`
		} `json:"migrations"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &s); err != nil || s.Head == nil || s.Min == nil {
		return nil, fmt.Errorf("read the app's schema: `app schema` printed %q, want JSON with head, min and migrations (%v)", strings.TrimSpace(string(out)), err)
	}
	var contracts []string
	for _, m := range s.Migrations {
		switch m.Kind {
		case "contract":
			contracts = append(contracts, strconv.FormatInt(m.Version, 10)+":"+m.Name)
		case "expand":
		default:
			return nil, fmt.Errorf("read the app's schema: migration %s has kind %q, want expand or contract", m.Name, m.Kind)
		}
	}
	return map[string]string{
		"SCHEMA_HEAD":      strconv.FormatInt(*s.Head, 10),
		"SCHEMA_MIN":       strconv.FormatInt(*s.Min, 10),
		"SCHEMA_CONTRACTS": strings.Join(contracts, ","),
	}, nil
}
