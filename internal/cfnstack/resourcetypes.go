package cfnstack

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"gopkg.in/yaml.v3"
)

// TemplateResourceTypes returns the resource types a template declares
// (YAML or JSON), sorted and without repeats. Every change set and update
// sends them as ResourceTypes: it is the only source of IAM's
// cloudformation:ResourceTypes condition key, so a role that allows only
// some types is enforced only when the request names them (and a policy
// that allows "ForAllValues" over a missing key allows everything).
func TemplateResourceTypes(body string) ([]string, error) {
	res, err := templateResources(body)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := []string{}
	for _, t := range res {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

// templateResources maps a template's logical IDs to their types.
func templateResources(body string) (map[string]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(body), &doc); err != nil {
		return nil, fmt.Errorf("read the template's resource types: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("read the template's resource types: the template is empty")
	}
	res := mapValue(doc.Content[0], "Resources")
	if res == nil || res.Kind != yaml.MappingNode || len(res.Content) == 0 {
		return nil, errors.New("read the template's resource types: the template has no Resources")
	}
	out := map[string]string{}
	for i := 0; i+1 < len(res.Content); i += 2 {
		t := mapValue(res.Content[i+1], "Type")
		if t == nil || t.Kind != yaml.ScalarNode || t.Value == "" {
			return nil, fmt.Errorf("read the template's resource types: resource %s (line %d) has no Type", res.Content[i].Value, res.Content[i].Line)
		}
		out[res.Content[i].Value] = t.Value
	}
	return out, nil
}

// mapValue is the value of key in a YAML mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// stackResourceTypes reads the resource types of a stack's current
// template, for an update that keeps it (UsePreviousTemplate).
func (e *Engine) stackResourceTypes(ctx context.Context, id string) ([]string, error) {
	out, err := e.api.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("read the stack's template: %w", err)
	}
	return TemplateResourceTypes(aws.ToString(out.TemplateBody))
}
