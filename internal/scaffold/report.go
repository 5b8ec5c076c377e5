package scaffold

import (
	"fmt"
	"io"
	"strings"
)

// Next are the commands to run once init is done, each with what it shows.
var Next = [][2]string{
	{"go run mage.go preview:deploy -pr=1", "a preview of this checkout on the local Docker engine, tested with your test command"},
	{"go run mage.go demo", "production and two pull request previews of the app on the local Docker engine, with their URLs"},
}

// Print writes what init did: each file it wrote and each it kept, with
// notes indented under it, then the next commands (or that there was
// nothing to write).
func (r Result) Print(w io.Writer) error {
	var b strings.Builder
	if len(r.Written()) == 0 {
		fmt.Fprintf(&b, "slipway init: nothing to write in %s: every file is there (-force writes slipway.yaml, the magefile, mage.go and the workflows afresh)\n", r.Dir)
	} else {
		fmt.Fprintf(&b, "slipway init: %s\n", r.Dir)
	}
	for _, f := range r.Files {
		fmt.Fprintf(&b, "  %-9s  %s\n", f.Status, f.Path)
		for line := range strings.SplitSeq(f.Note, "\n") {
			if line != "" {
				fmt.Fprintf(&b, "  %-9s    %s\n", "", line)
			}
		}
	}
	b.WriteString("\nNext, in " + r.Dir + ":\n")
	for _, n := range Next {
		fmt.Fprintf(&b, "  %-38s # %s\n", n[0], n[1])
	}
	b.WriteString("then commit these files; the workflows' repository variables are described at the top of each.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
