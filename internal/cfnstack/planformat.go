package cfnstack

import (
	"fmt"
	"io"
	"strings"
)

// Write prints the plan for a person: one line per resource (+ added,
// ~ modified, - removed, with whether CloudFormation replaces it and the
// properties that change), the parameters that change, and the changes to
// IAM apart. Nothing has run.
func (p Plan) Write(w io.Writer) error {
	var b strings.Builder
	switch {
	case p.Recreate:
		fmt.Fprintf(&b, "%s: failed; a deploy deletes it and creates it again with %d resources:\n", p.Stack, len(p.Changes))
	case p.Create:
		fmt.Fprintf(&b, "%s: does not exist; a deploy creates it with %d resources:\n", p.Stack, len(p.Changes))
	case len(p.Changes) == 0 && len(p.Params) == 0:
		fmt.Fprintf(&b, "%s: no changes\n", p.Stack)
	default:
		fmt.Fprintf(&b, "%s: %s:\n", p.Stack, p.summary())
	}
	for _, c := range p.Changes {
		b.WriteString(c.line())
	}
	if len(p.Params) > 0 {
		b.WriteString("parameters:\n")
		for _, pc := range p.Params {
			fmt.Fprintf(&b, "  %s: %s -> %s\n", pc.Key, pc.Before, pc.After)
		}
	}
	var iam []string
	for _, c := range p.Changes {
		if c.IAM {
			iam = append(iam, c.line())
		}
	}
	if len(iam) > 0 {
		b.WriteString("IAM changes (who may do what):\n" + strings.Join(iam, ""))
	}
	b.WriteString("Nothing was changed (-diff).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (p Plan) summary() string {
	var add, mod, rm, repl int
	for _, c := range p.Changes {
		switch c.Action {
		case "Add":
			add++
		case "Remove":
			rm++
		default:
			mod++
			if c.Replacement == "True" || c.Replacement == "Conditional" {
				repl++
			}
		}
	}
	return fmt.Sprintf("%d to add, %d to modify (%d replaced), %d to remove; %d changed parameters", add, mod, repl, rm, len(p.Params))
}

func (c Change) line() string {
	sign := map[string]string{"Add": "+", "Remove": "-"}[c.Action]
	if sign == "" {
		sign = "~"
	}
	s := fmt.Sprintf("  %s %s (%s)", sign, c.LogicalID, c.Type)
	switch c.Replacement {
	case "True":
		s += " REPLACED"
	case "Conditional":
		s += " may be replaced"
	}
	var props []string
	for _, p := range c.Properties {
		v := p.Name
		if p.Before != "" || p.After != "" {
			v += fmt.Sprintf(" %s -> %s", short(p.Before), short(p.After))
		}
		if p.Recreation == "Always" {
			v += " (replaces)"
		}
		props = append(props, v)
	}
	if len(props) > 0 {
		s += ": " + strings.Join(props, "; ")
	}
	return s + "\n"
}

// short keeps a property value to one readable line.
func short(v string) string {
	v = strings.Join(strings.Fields(v), " ")
	if v == "" {
		return `""`
	}
	if len(v) > 80 {
		return v[:77] + "..."
	}
	return v
}
