// Command slipway-pg-entrypoint is the entrypoint of Slipway's local Postgres
// image (internal/pgimage). It does what the official postgres image's
// docker-entrypoint.sh does for the subset Slipway uses:
//
//   - POSTGRES_PASSWORD (required) and POSTGRES_USER (default "postgres")
//     name the superuser;
//   - on first start, when $PGDATA (default /var/lib/postgresql/data) holds
//     no cluster, it runs initdb (UTF8, locale C, scram-sha-256 for TCP,
//     trust on the container-local socket) and lets every address connect
//     with a password;
//   - it then replaces itself with postgres listening on all addresses, so
//     postgres is PID 1 and receives the container's stop signal.
//
// POSTGRES_DB, init scripts and POSTGRES_HOST_AUTH_METHOD are not supported.
// The image runs it as the postgres user (uid 999): initdb and postgres
// refuse to run as root.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

const (
	defaultData = "/var/lib/postgresql/data"
	defaultBin  = "/usr/lib/postgresql/15/bin"
	// hbaAll is what the official image appends to pg_hba.conf: any
	// address may connect with a scram-sha-256 password.
	hbaAll = "\n# added by slipway-pg-entrypoint, as the official image does\nhost all all all scram-sha-256\n"
)

func main() {
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "slipway-pg-entrypoint:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string) error {
	data := orDefault(getenv("PGDATA"), defaultData)
	bin := orDefault(getenv("PGBIN"), defaultBin)
	if len(args) > 0 && args[0] == "postgres" {
		args = args[1:] // the official image's CMD is "postgres"; accept it
	}
	_, err := os.Stat(filepath.Join(data, "PG_VERSION"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := initCluster(bin, data, getenv); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("check data directory %s: %w", data, err)
	}
	argv := append([]string{"postgres", "-D", data, "-c", "listen_addresses=*"}, args...)
	if err := syscall.Exec(filepath.Join(bin, "postgres"), argv, os.Environ()); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	return nil
}

// initCluster runs initdb in data with the superuser and password from the
// environment, and opens TCP connections to every address with scram.
func initCluster(bin, data string, getenv func(string) string) (err error) {
	password := getenv("POSTGRES_PASSWORD")
	if password == "" {
		return errors.New("the database is uninitialized and POSTGRES_PASSWORD is not set: set it to the superuser's password")
	}
	user := orDefault(getenv("POSTGRES_USER"), "postgres")
	pwfile, err := os.CreateTemp(filepath.Dir(data), ".pwfile-")
	if err != nil {
		return fmt.Errorf("create password file for initdb: %w", err)
	}
	defer func() {
		if rmErr := os.Remove(pwfile.Name()); rmErr != nil && err == nil {
			err = fmt.Errorf("remove password file: %w", rmErr)
		}
	}()
	if _, err := pwfile.WriteString(password + "\n"); err != nil {
		_ = pwfile.Close()
		return fmt.Errorf("write password file for initdb: %w", err)
	}
	if err := pwfile.Close(); err != nil {
		return fmt.Errorf("write password file for initdb: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "--username="+user,
		"--pwfile="+pwfile.Name(), "--auth-host=scram-sha-256", "--auth-local=trust",
		"--encoding=UTF8", "--locale=C")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb %s: %w", data, err)
	}
	hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open pg_hba.conf: %w", err)
	}
	if _, err := hba.WriteString(hbaAll); err != nil {
		_ = hba.Close()
		return fmt.Errorf("write pg_hba.conf: %w", err)
	}
	if err := hba.Close(); err != nil {
		return fmt.Errorf("write pg_hba.conf: %w", err)
	}
	return nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
