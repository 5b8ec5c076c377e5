package router

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxStackPorts bounds a range of stack ports: Docker starts one
// docker-proxy process per published port (about 3 MB each, and creating
// and removing the router takes longer with each).
const MaxStackPorts = 1000

// PortRange is a range of stack ports, First to Last inclusive; the zero
// value is no port.
type PortRange struct{ First, Last int }

// ParsePortRange reads "18100-18119", or one port "18100"; "" is no port.
func ParsePortRange(s string) (PortRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return PortRange{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	first, err1 := strconv.Atoi(strings.TrimSpace(lo))
	last, err2 := first, error(nil)
	if isRange {
		last, err2 = strconv.Atoi(strings.TrimSpace(hi))
	}
	switch {
	case err1 != nil || err2 != nil:
		return PortRange{}, fmt.Errorf("%q is not a port range: write it as first-last, such as 18100-18119", s)
	case first < 1 || last > 65535 || first > last:
		return PortRange{}, fmt.Errorf("%q is not a port range: want first-last with 1 <= first <= last <= 65535", s)
	case last-first+1 > MaxStackPorts:
		return PortRange{}, fmt.Errorf("%q has %d ports: at most %d (Docker runs a proxy process per published port)", s, last-first+1, MaxStackPorts)
	}
	return PortRange{First: first, Last: last}, nil
}

// String is the range as ParsePortRange reads it; "" for no port.
func (r PortRange) String() string {
	switch {
	case r.Len() == 0:
		return ""
	case r.First == r.Last:
		return strconv.Itoa(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// Len is the number of ports in the range.
func (r PortRange) Len() int {
	if r.First <= 0 || r.Last < r.First {
		return 0
	}
	return r.Last - r.First + 1
}

// Contains reports whether port is in the range.
func (r PortRange) Contains(port int) bool { return r.Len() > 0 && port >= r.First && port <= r.Last }
