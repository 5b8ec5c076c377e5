package infra

import "testing"

// The estimate status shows: the default preview (0.25 vCPU, 512 MiB, one
// task on Spot), the same on demand, and a release of two larger tasks;
// a release scaled to zero costs nothing.
func TestStackMonthlyCost(t *testing.T) {
	for _, c := range []struct {
		name   string
		params map[string]string
		want   float64
	}{
		{"preview on Spot", map[string]string{"Cpu": "256", "Memory": "512", "DesiredCount": "1", "CapacityProvider": "FARGATE_SPOT"}, 6.35},
		{"preview on demand", map[string]string{"Cpu": "256", "Memory": "512", "DesiredCount": "1", "CapacityProvider": "FARGATE"}, 12.66},
		{"a stack from before CapacityProvider (on demand)", map[string]string{"Cpu": "256", "Memory": "512", "DesiredCount": "1"}, 12.66},
		{"release, two tasks of 0.5 vCPU and 1 GiB", map[string]string{"Cpu": "512", "Memory": "1024", "DesiredCount": "2", "CapacityProvider": "FARGATE"}, 43.34},
		{"release scaled to zero", map[string]string{"Cpu": "512", "Memory": "1024", "DesiredCount": "0"}, 0},
	} {
		got, ok := StackMonthlyCost(c.params)
		if !ok || got != c.want {
			t.Errorf("%s: %.2f USD a month (%v), want %.2f", c.name, got, ok, c.want)
		}
	}
	if _, ok := StackMonthlyCost(map[string]string{"Value": "v1"}); ok {
		t.Error("a stack without Cpu, Memory and DesiredCount got an estimate")
	}
}
