package image_test

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
)

var goarchToELF = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386,
	"arm": elf.EM_ARM, "riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390,
}

func TestCompileStaticLinksAStaticLinuxBinaryWithVersion(t *testing.T) {
	testenv.Binary(t, "go", "install Go")
	out := filepath.Join(t.TempDir(), "app")
	if err := image.CompileStatic(t.Context(), ".", "./testdata/hello", out, "v1.2.3", testSHA, false); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatalf("open binary as ELF: %v", err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Errorf("close binary: %v", err)
		}
	}()
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("OS ABI %v, want linux", f.OSABI)
	}
	if want, ok := goarchToELF[runtime.GOARCH]; ok && f.Machine != want {
		t.Errorf("machine %v, want %v for %s", f.Machine, want, runtime.GOARCH)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("binary has a symbol table: -s was not applied")
	}
	if runtime.GOOS != "linux" {
		return
	}
	got, err := exec.CommandContext(t.Context(), out).Output()
	if err != nil {
		t.Fatalf("run binary: %v", err)
	}
	if want := "hello version=v1.2.3 commit=" + testSHA; strings.TrimSpace(string(got)) != want {
		t.Errorf("binary printed %q, want %q", got, want)
	}
}

func TestCompileStaticFails(t *testing.T) {
	testenv.Binary(t, "go", "install Go")
	tests := map[string]struct {
		pkg, version, want string
	}{
		"when the version would split the linker flags": {"./testdata/hello", "v1 -X main.x=y", "contains a space"},
		"with the compiler's message when the package does not exist": {
			"./testdata/no-such-package", "v1", "no-such-package",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "app")
			err := image.CompileStatic(t.Context(), ".", tc.pkg, out, tc.version, "abc", false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
