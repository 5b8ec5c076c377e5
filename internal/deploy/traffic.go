package deploy

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// TrafficRow is one stack's share of production traffic.
type TrafficRow struct {
	Stack   string
	Weight  int
	Percent float64
	Commit  string
	Healthy bool
}

// Traffic reads the production split.
func (f *Flow) Traffic(ctx context.Context) ([]TrafficRow, error) {
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	byName := map[string]Stack{}
	for _, s := range stacks {
		byName[s.Name] = s
	}
	total := 0
	for _, w := range routes.Production {
		total += w.Weight
	}
	var rows []TrafficRow
	for _, w := range routes.Production {
		r := TrafficRow{Stack: w.Stack, Weight: w.Weight, Commit: commitLabel(byName[w.Stack]), Healthy: byName[w.Stack].Healthy}
		if total > 0 {
			r.Percent = float64(w.Weight) * 100 / float64(total)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// PrintTraffic writes the split as a table.
func PrintTraffic(w io.Writer, rows []TrafficRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no production traffic: run `go run mage.go release`")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tWEIGHT\tSHARE\tCOMMIT\tHEALTH")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%s\t%s\n", r.Stack, r.Weight, r.Percent, r.Commit, health(r.Healthy))
	}
	return tw.Flush()
}

func health(ok bool) string {
	if ok {
		return "healthy"
	}
	return "unhealthy"
}

// SetTraffic replaces the production split in one atomic change (manual
// canary, A/B). Every stack named must be a production stack in good
// standing; one with weight is scaled up or must be healthy first, and at
// least one must have weight, so the split never leaves production with no
// healthy target. Stacks not named lose their traffic.
func (f *Flow) SetTraffic(ctx context.Context, ws []Weight) error {
	return f.locked(ctx, "traffic", func(ctx context.Context) error {
		stacks, err := f.Target.Stacks(ctx)
		if err != nil {
			return fmt.Errorf("traffic: %w", err)
		}
		byName := map[string]Stack{}
		for _, s := range stacks {
			byName[s.Name] = s
		}
		var split []Weight
		for _, w := range ws {
			s, ok := byName[w.Stack]
			switch {
			case !ok:
				return fmt.Errorf("traffic: no stack %s: see `go run mage.go status`", w.Stack)
			case s.Role != RoleProduction:
				return fmt.Errorf("traffic: %s is a %s, not a production stack", w.Stack, s.Role)
			case s.State == StateFailed:
				return fmt.Errorf("traffic: %s failed its release and cannot take traffic", w.Stack)
			case w.Weight == 0:
				continue
			}
			if err := f.ready(ctx, "traffic", s); err != nil {
				return err
			}
			split = append(split, w)
		}
		if len(split) == 0 {
			return fmt.Errorf("traffic: at least one stack needs a positive weight, or production would have no target")
		}
		if err := f.Target.SetProduction(ctx, split); err != nil {
			return fmt.Errorf("traffic: set the split (production unchanged): %w", err)
		}
		f.logf("traffic: production split is now %s", SplitString(split))
		return nil
	})
}

// SplitString is a split as a user writes it for traffic:set: "a=90 b=10".
func SplitString(ws []Weight) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%s=%d", w.Stack, w.Weight)
	}
	return strings.Join(parts, " ")
}
