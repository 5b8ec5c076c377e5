//go:build ignore

// Zero-install bootstrap: `go run mage.go <target>` runs a target without
// installing mage. `go run mage.go -l` lists the targets. Any number may run
// at once in one checkout, and each checkout runs its own code (see
// package magerun).
package main

import (
	"os"

	"github.com/slipway/slipway/magerun"
)

func main() { os.Exit(magerun.Main()) }
