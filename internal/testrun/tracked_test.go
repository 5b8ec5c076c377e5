package testrun

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// executableMagic are the first bytes of compiled programs: ELF, Mach-O
// (both byte orders, 32 and 64 bit, universal) and PE.
var executableMagic = [][]byte{
	{0x7f, 'E', 'L', 'F'},
	{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe},
	{'M', 'Z'},
}

// No compiled binary is tracked by git: what is built is built from the
// sources, never taken from a commit.
func TestNoCompiledBinaryIsTracked(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var found []string
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the work tree
		}
		head := make([]byte, 4)
		n, _ := f.Read(head) // a short or empty file is no binary
		_ = f.Close()
		for _, m := range executableMagic {
			if n >= len(m) && bytes.Equal(head[:len(m)], m) {
				found = append(found, name)
				break
			}
		}
	}
	if len(found) > 0 {
		t.Fatalf("compiled binaries are tracked by git: %v; remove them with `git rm --cached` (.gitignore keeps them out)", found)
	}
}
