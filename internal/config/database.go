package config

import (
	"errors"
	"os"
	"strings"

	"github.com/slipway/slipway/internal/pgname"
)

// Database holds the app database's settings (issue 11).
type Database struct {
	On    bool   // SLIPWAY_DATABASE: give the app a Postgres server
	Image string // SLIPWAY_DB_IMAGE: the local server's image
}

var databaseSettings = []Setting{
	{"SLIPWAY_DATABASE", "1 when slipway.yaml has database, else 0", "1: the app gets Postgres: production database <app>, a golden copy refreshed on each release, a database per preview cloned from it, migrations before traffic (DATABASE_URL, never printed)", false},
	{pgname.EnvImage, pgname.DefaultImage, "local target: the image of the database server <app>-db, pulled when missing (a machine that cannot pull builds " + pgname.LocalTag + " from Debian's packages with local:dbImage; tests and CI build their own)", false},
}

func init() { Settings = append(Settings, databaseSettings...) }

// LoadDatabase reads the database settings and returns every problem: the
// database is on when SLIPWAY_DATABASE says so, else when the slipway.yaml
// found from the working directory has a database.
func LoadDatabase(env func(string) string) (Database, error) {
	dir, err := os.Getwd()
	if err != nil {
		dir = "" // Load reports it
	}
	return LoadDatabaseFrom(env, dir)
}

// LoadDatabaseFrom is LoadDatabase with the slipway.yaml found from dir;
// dir "" reads no manifest.
func LoadDatabaseFrom(env func(string) string, dir string) (Database, error) {
	p := &parser{env: env}
	d := Database{On: p.databaseOn(p.manifest(dir)), Image: pgname.ImageFromEnv(func(k string) string { return strings.TrimSpace(env(k)) })}
	return d, errors.Join(p.errs...)
}
