package deploy

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// StatusRow is one line of the status table.
type StatusRow struct {
	Stack, Role, PR, Commit, Image, Age, Health, Traffic, URL string
}

// Status reads stacks and routes from the provider and says, per stack,
// what it runs and what traffic it takes.
func (f *Flow) Status(ctx context.Context) ([]StatusRow, error) {
	stacks, err := f.Provider.Stacks(ctx)
	if err != nil {
		return nil, err
	}
	routes, err := f.Provider.Routes(ctx)
	if err != nil {
		return nil, err
	}
	return statusRows(stacks, routes, f.Routing, f.now()), nil
}

func statusRows(stacks []Stack, r Routes, rt Routing, now time.Time) []StatusRow {
	hostOf := map[string][]string{}
	for h, s := range r.Hosts {
		hostOf[s] = append(hostOf[s], h)
	}
	weight, total := map[string]int{}, 0
	for _, w := range r.Production {
		weight[w.Stack] += w.Weight
		total += w.Weight
	}
	sort.Slice(stacks, func(i, j int) bool {
		if stacks[i].Role != stacks[j].Role {
			return stacks[i].Role == RoleProduction
		}
		return stacks[i].Created.After(stacks[j].Created)
	})
	rows := make([]StatusRow, 0, len(stacks))
	for _, s := range stacks {
		row := StatusRow{Stack: s.Name, Role: s.Role, PR: "-", Commit: naming.ShortCommit(s.Commit), Image: shortRef(s.Digest),
			Age: age(now.Sub(s.Created)), Health: "unhealthy", Traffic: "-", URL: "-"}
		if s.PR > 0 {
			row.PR = fmt.Sprint(s.PR)
		}
		if s.Healthy {
			row.Health = "healthy"
		}
		if hosts := hostOf[s.Name]; len(hosts) > 0 {
			sort.Strings(hosts)
			row.Traffic, row.URL = "host", rt.URL(hosts[0])
		}
		if w, ok := weight[s.Name]; ok && total > 0 {
			row.Traffic, row.URL = fmt.Sprintf("%d%%", w*100/total), rt.URL(rt.ProductionHost())
		}
		rows = append(rows, row)
	}
	return rows
}

// PrintStatus writes the status table, or a sentence when there is nothing.
func PrintStatus(w io.Writer, rows []StatusRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no stacks: run `go run mage.go demo` or `go run mage.go preview:deploy -pr=1`")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tROLE\tPR\tCOMMIT\tIMAGE\tAGE\tHEALTH\tTRAFFIC\tURL")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join([]string{r.Stack, r.Role, r.PR, r.Commit, r.Image, r.Age, r.Health, r.Traffic, r.URL}, "\t"))
	}
	return tw.Flush()
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
