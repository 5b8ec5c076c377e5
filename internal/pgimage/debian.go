package pgimage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/slipway/slipway/internal/image"
)

// binDir is where Debian installs the server's programs.
const binDir = "/usr/lib/postgresql/" + Major + "/bin"

// dockerfile turns the imported root file system ({{base}}, an image ID)
// into the server image: our entrypoint, the directories the postgres user
// writes (a new named volume mounted on the data directory starts with its
// owner; mmdebstrap empties /run), and the settings docker import cannot
// apply (STOPSIGNAL: SIGINT is Postgres's fast shutdown, as in the
// official image).
const dockerfile = `FROM {{base}}
COPY slipway-pg-entrypoint /usr/local/bin/slipway-pg-entrypoint
RUN install -d -o {{uid}} -g {{uid}} -m 0700 /var/lib/postgresql/data && install -d -o {{uid}} -g {{uid}} -m 2775 /run/postgresql
ENV LANG=C PGDATA=/var/lib/postgresql/data PGBIN=` + binDir + ` PATH=` + binDir + `:/usr/local/bin:/usr/bin:/bin
LABEL org.opencontainers.image.title="Slipway local Postgres" org.opencontainers.image.description="PostgreSQL ` + Major + ` from Debian ` + Suite + `" org.opencontainers.image.source=https://github.com/slipway/slipway
USER {{uid}}:{{uid}}
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/slipway-pg-entrypoint"]
CMD ["postgres"]
`

// mmdebstrapArgs are the arguments of the root file system's build, which
// writes a tarball to standard output. The essential hook runs before the
// postgresql package is installed: it makes the postgres user with the
// official image's UID (its postinst then keeps it) and turns off the
// cluster Debian would create in /var/lib/postgresql/<major>/main. The
// customize hook checks that the UID held. Left out:
// documentation, translations (LANG=C) and JIT (llvmjit and the LLVM and
// Z3 libraries only it loads, 160 MB; without llvmjit Postgres just does
// not compile queries).
func mmdebstrapArgs() []string {
	uid := strconv.Itoa(UID)
	exclude := []string{"/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*",
		"/usr/lib/postgresql/*/lib/llvmjit*", "/usr/lib/postgresql/*/lib/bitcode/*",
		"/usr/lib/*/libLLVM*", "/usr/lib/*/libz3.so*"}
	args := []string{"--variant=minbase", "--include=postgresql-" + Major}
	for _, p := range exclude {
		args = append(args, "--dpkgopt=path-exclude="+p)
	}
	return append(args, "--dpkgopt=path-include=/usr/share/doc/*/copyright",
		`--essential-hook=echo 'postgres:x:`+uid+`:`+uid+`:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash' >> "$1/etc/passwd"`+
			` && echo 'postgres:x:`+uid+`:' >> "$1/etc/group"`+
			` && mkdir -p "$1/etc/postgresql-common/createcluster.d"`+
			` && echo 'create_main_cluster = false' > "$1/etc/postgresql-common/createcluster.d/slipway.conf"`,
		`--customize-hook=grep -q '^postgres:x:`+uid+`:`+uid+`:' "$1/etc/passwd"`,
		Suite, "-")
}

// buildDebian builds the root file system, imports it and builds the
// server image on it, tagged tags and labelled with recipe.
func buildDebian(ctx context.Context, e Engine, moduleDir string, tags []string, recipe string, progress io.Writer) (string, error) {
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return "", fmt.Errorf("mmdebstrap not found (install Debian's mmdebstrap package: scripts/setup-debian.sh does): %w", err)
	}
	dir, err := os.MkdirTemp("", "slipway-pgimage-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a leftover temp directory harms nothing
	entry := filepath.Join(dir, "slipway-pg-entrypoint")
	if err := image.CompileStatic(ctx, moduleDir, "./"+entrypointPkg, entry, "local", "local", false); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "pgimage: building a Debian %s root file system with postgresql-%s (mmdebstrap, about a minute)\n", Suite, Major)
	base, err := importRootfs(ctx, e, progress)
	if err != nil {
		return "", err
	}
	df := strings.NewReplacer("{{base}}", base, "{{uid}}", strconv.Itoa(UID)).Replace(dockerfile)
	dfPath := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(dfPath, []byte(df), 0o644); err != nil {
		return "", err
	}
	bctx, err := image.TarContext(map[string]string{"Dockerfile": dfPath, "slipway-pg-entrypoint": entry})
	if err != nil {
		return "", err
	}
	return image.Build(ctx, e, image.BuildOptions{Context: bctx, Tags: tags, Labels: map[string]string{LabelRecipe: recipe}}, progress)
}

// importRootfs runs mmdebstrap and streams its tarball into docker import,
// returning the imported image's ID. mmdebstrap's own lines go to progress;
// when it fails, its error (with its last lines) is the one reported.
func importRootfs(ctx context.Context, e Engine, progress io.Writer) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mmdebstrap", mmdebstrapArgs()...)
	tar, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("run mmdebstrap: %w", err)
	}
	tail := make(chan []string, 1)
	go func() { tail <- relayLines(stderr, progress, 15) }()
	// The engine may stop reading at the archive's end marker, and the HTTP
	// client would close a body that is a file: hide the pipe's Close and
	// read what is left, so mmdebstrap never writes to a closed pipe.
	id, importErr := importTar(ctx, e, struct{ io.Reader }{tar})
	if importErr != nil {
		cancel() // mmdebstrap would block writing to a pipe nobody reads
	} else if _, err := io.Copy(io.Discard, tar); err != nil {
		importErr = fmt.Errorf("read the rest of mmdebstrap's tarball: %w", err)
	}
	lines := <-tail
	// mmdebstrap's own failure explains a truncated tarball; a kill (ours,
	// after the import failed, or the caller's cancel) does not.
	var exit *exec.ExitError
	if err := cmd.Wait(); err != nil && (importErr == nil || errors.As(err, &exit) && exit.Exited()) {
		return "", fmt.Errorf("mmdebstrap: %w; its last lines:\n%s", err, strings.Join(lines, "\n"))
	}
	if importErr != nil {
		return "", importErr
	}
	return id, nil
}

// importTar sends the tarball r to the engine as a new image, untagged.
func importTar(ctx context.Context, e Engine, r io.Reader) (string, error) {
	return image.Import(ctx, e, r, "import the root file system")
}

// relayLines copies r's lines to w and returns the last n of them.
func relayLines(r io.Reader, w io.Writer, n int) []string {
	var last []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		if line == "" {
			continue
		}
		fmt.Fprintln(w, line)
		if last = append(last, line); len(last) > n {
			last = last[1:]
		}
	}
	_, _ = io.Copy(io.Discard, r) // a line longer than the scanner takes: keep the pipe drained
	return last
}
