package pgimage

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// dockerfile copies the root file system, then gives the postgres user the
// directories it writes: the data directory (a new named volume mounted
// there starts with this owner) and the socket directory.
const dockerfile = `FROM scratch
COPY rootfs/ /
COPY --chown={{uid}}:{{uid}} owned/ /var/lib/postgresql/
COPY --chown={{uid}}:{{uid}} run/ /var/run/postgresql/
ENV LANG=C PGDATA=/var/lib/postgresql/data PGBIN={{bin}} PATH={{bin}}:/usr/bin
LABEL org.opencontainers.image.title="Slipway local Postgres" org.opencontainers.image.source=https://github.com/slipway/slipway
USER {{uid}}:{{uid}}
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/slipway-pg-entrypoint"]
CMD ["postgres"]
`

var contextTime = time.Unix(0, 0).UTC()

// buildContext streams the build context: the Dockerfile, rootfs/ with the
// tree, and the empty owned/data and run/ directories.
func buildContext(t tree, binDir string) io.Reader {
	df := strings.NewReplacer("{{uid}}", strconv.Itoa(UID), "{{bin}}", binDir).Replace(dockerfile)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeContext(pw, t, df))
	}()
	return pr
}

func writeContext(w io.Writer, t tree, dockerfile string) error {
	tw := tar.NewWriter(w)
	if err := writeHeader(tw, "Dockerfile", entry{data: []byte(dockerfile), mode: 0o644}); err != nil {
		return err
	}
	for _, d := range []string{"rootfs/", "owned/", "owned/data/", "run/"} {
		if err := writeHeader(tw, d, entry{dir: true, mode: 0o755}); err != nil {
			return err
		}
	}
	for _, p := range t.paths() {
		e := t[p]
		name := "rootfs" + p
		if e.dir {
			name += "/"
		}
		if err := writeHeader(tw, name, e); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write build context: %w", err)
	}
	return nil
}

// writeHeader writes one entry (and, for files, its content).
func writeHeader(tw *tar.Writer, name string, e entry) error {
	h := &tar.Header{Name: name, Mode: int64(e.mode.Perm()), ModTime: contextTime, Format: tar.FormatPAX}
	if e.mode&os.ModeSticky != 0 || e.mode&0o1000 != 0 {
		h.Mode |= 0o1000
	}
	switch {
	case e.dir:
		h.Typeflag = tar.TypeDir
	case e.link != "":
		h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.link, 0o777
	case e.src != "":
		return writeFile(tw, h, e.src)
	default:
		h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("write %s to build context: %w", name, err)
	}
	if len(e.data) > 0 {
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("write %s to build context: %w", name, err)
		}
	}
	return nil
}

func writeFile(tw *tar.Writer, h *tar.Header, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("add %s to build context: %w", src, err)
	}
	defer func() { _ = f.Close() }() // read-only
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("add %s to build context: %w", src, err)
	}
	h.Typeflag, h.Size = tar.TypeReg, st.Size()
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("write %s to build context: %w", h.Name, err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("write %s to build context: %w", h.Name, err)
	}
	return nil
}
