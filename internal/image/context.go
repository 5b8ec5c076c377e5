package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// contextTime is the modification time of every file in a build context, so
// the same inputs give the same context and the builder's cache can hit.
var contextTime = time.Unix(0, 0).UTC()

// TarContext writes a build context holding files, which maps a name in the
// context (such as "Dockerfile" or "app") to a regular file on disk. Files
// with any executable bit get mode 0755, others 0644; owners and times are
// fixed so the same inputs always give the same bytes.
func TarContext(files map[string]string) (io.Reader, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		if err := checkContextName(name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range names {
		if err := addFile(tw, name, files[name]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close build context: %w", err)
	}
	return &buf, nil
}

func checkContextName(name string) error {
	if name == "" || path.IsAbs(name) || path.Clean(name) != name ||
		name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "\\") {
		return fmt.Errorf("add %q to build context: name must be a clean relative path", name)
	}
	return nil
}

func addFile(tw *tar.Writer, name, src string) (err error) {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("add %s to build context: %w", name, err)
	}
	defer closeInto(&err, f, src)
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("add %s to build context: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("add %s to build context: %s is not a regular file", name, src)
	}
	mode := int64(0o644)
	if info.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	hdr := &tar.Header{
		Typeflag: tar.TypeReg, Name: name, Size: info.Size(), Mode: mode,
		ModTime: contextTime,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("add %s to build context: %w", name, err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("add %s to build context: %w", name, err)
	}
	return nil
}
