package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/patternmatcher/ignorefile"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// readDockerignore returns the patterns of dir's .dockerignore (none when
// there is no such file), read as the docker CLI reads them.
func readDockerignore(dir string) (patterns []string, err error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("build image: read .dockerignore: %w", err)
	}
	defer closeInto(&err, f, ".dockerignore")
	if patterns, err = ignorefile.ReadAll(f); err != nil {
		return nil, fmt.Errorf("build image: read %s: %w", f.Name(), err)
	}
	return patterns, nil
}

// contextFS is dir without what excludes (.dockerignore patterns) name,
// every file owned by root as in a tar context: the builder sees the same
// files whichever way they are sent.
func contextFS(dir string, excludes []string) (fsutil.FS, error) {
	base, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, fmt.Errorf("build image: open the build context: %w", err)
	}
	f, err := fsutil.NewFilterFS(base, &fsutil.FilterOpt{
		ExcludePatterns: excludes,
		Map: func(_ string, st *fstypes.Stat) fsutil.MapResult {
			st.Uid, st.Gid = 0, 0
			return fsutil.MapResultKeep
		},
	})
	if err != nil {
		return nil, fmt.Errorf("build image: .dockerignore: %w", err)
	}
	return f, nil
}

// dockerfileInContext is where the classic builder finds the Dockerfile
// when it lies outside the context (the docker CLI adds it so too).
const dockerfileInContext = ".slipway.Dockerfile"

// contextDockerfile is the name of the Dockerfile in a classic build's
// context: its path in dir, or dockerfileInContext.
func contextDockerfile(dir, dockerfile string) string {
	if rel, err := filepath.Rel(dir, dockerfile); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return dockerfileInContext
}

// tarContext writes the context of a classic build: dir without what
// .dockerignore excludes, the Dockerfile and .dockerignore kept (the
// daemon reads and then drops them), and the Dockerfile added as name
// when it is outside dir (see contextDockerfile).
func tarContext(ctx context.Context, w io.Writer, dir, dockerfile, name string, excludes []string) error {
	keep := slices.Concat(excludes, []string{"!.dockerignore"})
	if name != dockerfileInContext {
		keep = append(keep, "!"+name)
	}
	src, err := contextFS(dir, keep)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	err = src.Walk(ctx, "/", func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return addEntry(tw, src, path, entry)
	})
	if err == nil && name == dockerfileInContext {
		err = addFile(tw, name, dockerfile)
	}
	if err != nil {
		return fmt.Errorf("build image: send the build context: %w", err)
	}
	return tw.Close()
}

// addEntry writes one file, directory or symbolic link of src.
func addEntry(tw *tar.Writer, src fsutil.FS, path string, entry fs.DirEntry) error {
	fi, err := entry.Info()
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*fstypes.Stat)
	if !ok {
		return fmt.Errorf("%s: no file information", path)
	}
	hdr, err := tar.FileInfoHeader(fi, st.Linkname)
	if err != nil {
		return err
	}
	hdr.Name = filepath.ToSlash(strings.TrimPrefix(path, "/"))
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	hdr.ModTime = contextTime
	if st.Linkname != "" && fi.Mode()&fs.ModeSymlink == 0 { // a second name of a file already sent
		hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, filepath.ToSlash(st.Linkname), 0
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
		return nil
	}
	r, err := src.Open(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(tw, r)
	return errors.Join(err, r.Close())
}
