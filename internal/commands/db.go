package commands

import (
	"fmt"
	"os"

	"github.com/slipway/slipway/internal/config"
)

// openDatabase reads SLIPWAY_DATABASE and SLIPWAY_DB_IMAGE: with the
// database on, the local provider starts <app>-db with the shared stack and
// the flow gives stacks their databases. The aws target has no database
// support in the flow yet; the flow says so when it needs it.
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
