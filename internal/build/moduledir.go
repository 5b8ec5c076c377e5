package build

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ModuleDir finds the directory of Slipway's go.mod from the working
// directory upwards.
func ModuleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find working directory: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("find go.mod: run the targets from inside the Slipway checkout")
		}
	}
}
