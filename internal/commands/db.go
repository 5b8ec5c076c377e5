package commands

import (
	"fmt"
	"os"

	"github.com/slipway/slipway/internal/config"
)

// openDatabase reads SLIPWAY_DATABASE and SLIPWAY_DB_IMAGE: with the
// database on, the local provider starts <app>-db with the shared stack and
// the flow gives stacks their databases. On the aws target the shared
// stack gets its Aurora cluster (aws.go) and awsprov administers it.
func openDatabase(s *Session) error {
	db, err := config.LoadDatabase(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if !db.On {
		return nil
	}
	s.Provider.SetDatabaseImage(db.Image)
	s.Flow.Database = true
	return nil
}
