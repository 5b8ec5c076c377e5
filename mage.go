//go:build ignore

// Zero-install bootstrap: `go run mage.go <target>` runs a target without
// installing mage. `go run mage.go -l` lists the targets.
package main

import (
	"os"

	"github.com/magefile/mage/mage"
)

func main() { os.Exit(mage.Main()) }
