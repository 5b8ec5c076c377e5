package infra

import (
	"math"
	"strconv"
)

// Prices for an estimate of a deploy stack's monthly cost: us-east-1,
// Linux/x86, on demand (AWS Fargate pricing; Amazon VPC pricing, "Public
// IPv4 addresses"). Fargate Spot's price moves with spare capacity; AWS
// advertises up to 70 % off, and the estimate takes exactly that.
const (
	FargateVCPUHour = 0.04048  // USD per vCPU-hour
	FargateGBHour   = 0.004445 // USD per GB-hour of memory
	SpotFraction    = 0.30     // Fargate Spot as a fraction of the on-demand price
	PublicIPv4Hour  = 0.005    // USD per public IPv4 address-hour: every task has one (no NAT gateway)
	HoursPerMonth   = 730
	costUnknown     = -1
	paramCPU        = "Cpu"
	paramMemory     = "Memory"
	paramDesired    = "DesiredCount"
	paramCapacity   = "CapacityProvider"
)

// MonthlyCost estimates what a deploy stack's tasks cost a month, in USD:
// Fargate CPU and memory (Spot at SpotFraction) and a public IPv4 address
// per task. The load balancers, the database and data transfer are shared
// and left out. A stack scaled to zero costs nothing here.
func MonthlyCost(cpuUnits, memoryMiB, tasks int, spot bool) float64 {
	if tasks <= 0 {
		return 0
	}
	compute := float64(cpuUnits)/1024*FargateVCPUHour + float64(memoryMiB)/1024*FargateGBHour
	if spot {
		compute *= SpotFraction
	}
	perTask := (compute + PublicIPv4Hour) * HoursPerMonth
	return math.Round(perTask*float64(tasks)*100) / 100
}

// StackMonthlyCost estimates a deploy stack's monthly cost from its
// parameters as DescribeStacks returns them (Cpu, Memory, DesiredCount,
// CapacityProvider), for status; ok is false when they are not a deploy
// stack's.
func StackMonthlyCost(params map[string]string) (usd float64, ok bool) {
	cpu, err1 := strconv.Atoi(params[paramCPU])
	mem, err2 := strconv.Atoi(params[paramMemory])
	tasks, err3 := strconv.Atoi(params[paramDesired])
	if err1 != nil || err2 != nil || err3 != nil {
		return costUnknown, false
	}
	return MonthlyCost(cpu, mem, tasks, params[paramCapacity] == CapacitySpot), true
}
