package deploy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// StatusRow is one line of the status table.
type StatusRow struct {
	Stack    string
	Role     string // live, previous, failed, new, preview, check
	Source   string // #PR or branch
	Commit   string // short SHA, "+dirty" when built from a dirty tree
	Schema   string // the schema head its image migrates to, "-" when it does not say
	Image    string
	Age      string
	LastLive string // "now", an age, or "never"
	Weight   string // share of production traffic, or "host" for a preview with a URL
	Health   string // healthy, unhealthy, scaled to zero, router down
	URL      string // where its traffic comes from: the preview's host, production
	StackURL string // the stack's own URL (Stack.URL), "-" when the target gives none
	Cost     string // estimated monthly cost ("$6.35/mo"), "" when the target does not say
}

// RouterDownError is returned with the status rows when the stacks could be
// read but the routing could not: the rows say what runs, not what serves.
type RouterDownError struct{ Err error }

func (e *RouterDownError) Error() string { return "router down: " + e.Err.Error() }
func (e *RouterDownError) Unwrap() error { return e.Err }

// Status reads stacks and routes from the provider and says, per stack,
// its role, what it runs and what traffic it takes. When the routing cannot
// be read it still returns the stacks, with a *RouterDownError.
func (f *Flow) Status(ctx context.Context) ([]StatusRow, error) {
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return nil, err
	}
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		rows := statusRows(stacks, Routes{}, f.Routing, f.now())
		for i := range rows {
			rows[i].Health, rows[i].Weight, rows[i].URL, rows[i].StackURL = "router down", "?", "-", "-"
		}
		return rows, &RouterDownError{Err: err}
	}
	return statusRows(stacks, routes, f.Routing, f.now()), nil
}

// NoStacksHint says what to run when the target has no stacks of the app:
// the demo is always local, so it is offered on the local target only.
func (f *Flow) NoStacksHint() string {
	if f.TargetName == "local" {
		return "run `go run mage.go demo`, or `go run mage.go preview:deploy -pr=1`"
	}
	return fmt.Sprintf("deploy a preview with `go run mage.go preview:deploy -pr=1`, or production with `go run mage.go release` (the %s target)", f.TargetName)
}

// RouterHint says what to run when the router is down.
func (f *Flow) RouterHint(err error) string {
	var down *RouterDownError
	if !errors.As(err, &down) {
		return ""
	}
	if f.TargetName == "local" {
		return fmt.Sprintf("the router is down, so nothing gets traffic: start it with `docker start %s-router`, or run any deploy (`go run mage.go release`), which starts it", f.App)
	}
	return "the load balancer's routing could not be read: nothing was changed; check the shared stack, then run `go run mage.go status` again"
}

var roleOrder = map[string]int{RoleLive: 0, RoleNew: 1, RolePrevious: 2, RoleFailed: 3, RolePreview: 4, RoleCheck: 5}

func statusRows(stacks []Stack, r Routes, rt Routing, now time.Time) []StatusRow {
	hostOf := map[string][]string{}
	for h, s := range r.Hosts {
		hostOf[s] = append(hostOf[s], h)
	}
	weight, total := weights(r), 0
	for _, w := range r.Production {
		total += w.Weight
	}
	stacks = append([]Stack(nil), stacks...)
	sort.SliceStable(stacks, func(i, j int) bool {
		ri, rj := roleOrder[lifecycleRole(stacks[i], weight)], roleOrder[lifecycleRole(stacks[j], weight)]
		if ri != rj {
			return ri < rj
		}
		return stacks[i].Created.After(stacks[j].Created)
	})
	rows := make([]StatusRow, 0, len(stacks))
	for _, s := range stacks {
		row := StatusRow{Stack: s.Name, Role: lifecycleRole(s, weight), Source: source(s), Commit: commitLabel(s), Schema: schemaLabel(s), Image: shortRef(s.Digest),
			Age: age(now.Sub(s.Created)), LastLive: "-", Health: health(s.Healthy), Weight: "-", URL: "-", StackURL: "-"}
		if s.URL != "" {
			row.StackURL = s.URL
		}
		if s.CostKnown {
			row.Cost = fmt.Sprintf("$%.2f/mo", s.MonthlyCost)
		}
		if s.Scaled {
			row.Health = "scaled to zero"
		}
		if s.Role == RoleProduction {
			row.LastLive = since(lastLive(s, weight, now), now)
		}
		if hosts := hostOf[s.Name]; len(hosts) > 0 {
			sort.Strings(hosts)
			row.Weight, row.URL = "host", rt.URL(hosts[0])
		}
		if w, ok := weight[s.Name]; ok && total > 0 {
			row.Weight, row.URL = fmt.Sprintf("%d%%", w*100/total), rt.URL(rt.ProductionHost())
		}
		rows = append(rows, row)
	}
	return rows
}

func source(s Stack) string {
	switch {
	case s.PR > 0:
		return fmt.Sprintf("#%d", s.PR)
	case s.Branch != "":
		return s.Branch
	}
	return "-"
}

func since(t, now time.Time) string {
	switch {
	case t.IsZero():
		return "never"
	case !t.Before(now):
		return "now"
	}
	return age(now.Sub(t)) + " ago"
}

// PrintStatus writes the status table, or a sentence when there is nothing.
func PrintStatus(w io.Writer, rows []StatusRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no stacks")
		return err
	}
	costs := false // a column only where the target estimates (aws)
	for _, r := range rows {
		costs = costs || r.Cost != ""
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "STACK\tROLE\tPR/BRANCH\tCOMMIT\tSCHEMA\tAGE\tLAST LIVE\tWEIGHT\tHEALTH\tURL\tSTACK URL"
	if costs {
		head += "\tEST. COST"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		cells := []string{r.Stack, r.Role, r.Source, r.Commit, r.Schema, r.Age, r.LastLive, r.Weight, r.Health, r.URL, r.StackURL}
		if costs {
			cells = append(cells, cmp.Or(r.Cost, "-"))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// Summary renders the status as Markdown for a GitHub step summary: the
// table and a Mermaid pie of the production split.
func Summary(w io.Writer, title string, rows []StatusRow) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", mdEscape(title))
	var split []StatusRow
	for _, r := range rows {
		if r.Role == RoleLive {
			split = append(split, r)
		}
	}
	if len(split) > 0 {
		b.WriteString("```mermaid\npie showData title Production traffic\n")
		for _, r := range split {
			fmt.Fprintf(&b, "    %q : %s\n", r.Stack+" ("+r.Commit+")", strings.TrimSuffix(r.Weight, "%"))
		}
		b.WriteString("```\n\n")
	}
	b.WriteString("| Stack | Role | PR/branch | Commit | Schema | Age | Last live | Weight | Health | URL | Stack URL |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		cells := []string{r.Stack, r.Role, r.Source, r.Commit, r.Schema, r.Age, r.LastLive, r.Weight, r.Health, r.URL, r.StackURL}
		for i := range cells {
			cells[i] = mdEscape(cells[i])
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape keeps a value (a branch name is user input) from breaking out
// of a table cell or a Mermaid label.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "`", "'", "<", "&lt;", ">", "&gt;", "\"", "'")
	return r.Replace(s)
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
