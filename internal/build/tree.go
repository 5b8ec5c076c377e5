package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// LabelTree is the label naming the git tree a clean image was built
// from: its commit's tree (a pinned revision's: the tracked files). An
// image is reused for a commit only when this label names the tree the
// build would be made of, so an image built from anything else (files git
// does not track, or by a Slipway from before the label) never passes for
// the commit. Dirty images, never reused, go without it: the classic
// builder makes each label a step of its own.
const LabelTree = "dev.slipway.tree"

// A Tree is what goes into a build: the files git tracks in a checkout,
// taken from one git tree, never the directory as it happens to be.
// Untracked files, ignored or not, reach no build, so they cannot make
// one dirty: a new file is built once it is `git add`ed (and the build is
// then dirty until it is committed).
type Tree struct {
	Dir    string // the checkout the build was asked for (ModuleDir)
	ID     string // the git tree object the build is made of; "" outside a git checkout
	Prefix string // Dir's path inside the repository, "" at its root
	top    string // the repository's top directory
	gitDir string // the checkout's git directory
}

// TreeOf returns what a build of rev in the checkout dir is made of. A
// clean revision whose commit the checkout has is built from that commit's
// tree, exactly, whatever the working tree holds meanwhile. Otherwise
// (uncommitted changes, or a pinned revision naming a commit the checkout
// does not have) it is the tracked files as they are in the working tree
// (workTree). A directory that is not in a git checkout at all (set
// SLIPWAY_COMMIT to build one) is built as it is: there is no tree.
func TreeOf(ctx context.Context, dir string, rev Revision) (Tree, error) {
	where, err := Git(ctx, dir, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-dir", "--git-path", "index", "--show-prefix")
	if err != nil {
		if inCheckout(dir) {
			return Tree{}, fmt.Errorf("read the checkout to build: %w", err)
		}
		return Tree{Dir: dir}, nil
	}
	lines := append(strings.SplitN(where, "\n", 4), "") // no prefix line at the top
	if len(lines) < 4 {
		return Tree{}, fmt.Errorf("read the checkout to build: git rev-parse printed %q", where)
	}
	t := Tree{Dir: dir, top: lines[0], gitDir: lines[1], Prefix: lines[3]}
	if !rev.Dirty {
		if tree, err := Git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev.Commit+"^{tree}"); err == nil && tree != "" {
			t.ID = tree
			return t, nil
		}
	}
	t.ID, err = workTree(ctx, dir, lines[2])
	return t, err
}

// workTree returns the git tree of the files git tracks in the checkout
// dir (whose index file is index) with their content in the working tree: the index's files, changes
// not yet staged included, and nothing git does not track. It stages into
// a copy of the index (the checkout's own is not touched) and so writes
// the blobs of changed files into the repository, as `git stash create`
// does.
func workTree(ctx context.Context, dir, index string) (tree string, err error) {
	tmp, err := os.MkdirTemp("", "slipway-index-")
	if err != nil {
		return "", fmt.Errorf("read the working tree: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(tmp); rmErr != nil && err == nil {
			err = fmt.Errorf("read the working tree: %w", rmErr)
		}
	}()
	copyIndex := filepath.Join(tmp, "index")
	if err := copyFile(index, copyIndex); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read the working tree: copy the index: %w", err)
	}
	env := []string{"GIT_INDEX_FILE=" + copyIndex}
	if _, err := gitEnv(ctx, dir, env, "add", "--update", "--", ":/"); err != nil {
		return "", fmt.Errorf("read the working tree: %w", err)
	}
	if tree, err = gitEnv(ctx, dir, env, "write-tree"); err != nil {
		return "", fmt.Errorf("read the working tree: %w", err)
	}
	return tree, nil
}

// Extract writes the source's files into dest, an empty directory, and
// returns where the checkout's own files are in it (dest, or below it
// when Dir is a subdirectory of its repository). Files keep git's
// executable bit and symbolic links stay links.
func (t Tree) Extract(ctx context.Context, dest string) (dir string, err error) {
	if t.ID == "" {
		return "", fmt.Errorf("extract %s: not a git checkout, there are no tracked files", t.Dir)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", t.ID)
	cmd.Dir = t.top // in a subdirectory, git archive takes only that
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", fmt.Errorf("extract tree %s: %w", t.ID, err)
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("extract tree %s: git archive: %w", t.ID, err)
	}
	untarErr := untar(bufio.NewReaderSize(out, 1<<20), dest)
	if untarErr != nil {
		cancel() // git may be blocked writing what is no longer read
	}
	if err := cmd.Wait(); err != nil && untarErr == nil {
		return "", fmt.Errorf("extract tree %s: git archive: %w: %s", t.ID, err, strings.TrimSpace(stderr.String()))
	}
	if untarErr != nil {
		return "", fmt.Errorf("extract tree %s: %w", t.ID, untarErr)
	}
	return filepath.Join(dest, filepath.FromSlash(t.Prefix)), nil
}

// untar writes the directories, files and symbolic links of the tar
// stream r below dest; no entry can write outside it.
func untar(r io.Reader, dest string) (err error) {
	root, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer closeInto(&err, root)
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean(h.Name)
		switch h.Typeflag {
		case tar.TypeXGlobalHeader:
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o755)
		case tar.TypeReg:
			err = writeEntry(root, name, h.FileInfo().Mode().Perm(), tr)
		case tar.TypeSymlink:
			if err = root.MkdirAll(path.Dir(name), 0o755); err == nil {
				err = root.Symlink(h.Linkname, name)
			}
		default:
			err = fmt.Errorf("entry %s has type %q, want a directory, file or symbolic link", h.Name, h.Typeflag)
		}
		if err != nil {
			return err
		}
	}
}

func writeEntry(root *os.Root, name string, perm fs.FileMode, r io.Reader) (err error) {
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer closeInto(&err, f)
	_, err = io.Copy(f, r)
	return err
}

// copyFile copies src to dst with src's modification time: git decides
// from an index entry's time against the index file's whether to look at
// the file again.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer closeInto(&err, in)
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, info.ModTime(), info.ModTime())
}

// inCheckout reports whether dir or a directory above it holds a .git.
func inCheckout(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return true // cannot tell: do not build it as a plain directory
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return true
		}
		if filepath.Dir(d) == d {
			return false
		}
	}
}

func closeInto(err *error, c io.Closer) {
	if cerr := c.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}
