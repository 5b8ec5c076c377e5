package config

import (
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/pgname"
)

func TestDatabaseSettings(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantOn    bool
		wantImage string
		wantErr   string
	}{
		{"off by default with the official image", nil, false, pgname.DefaultImage, ""},
		{"on with the local image", map[string]string{"SLIPWAY_DATABASE": "1", "SLIPWAY_DB_IMAGE": "slipway-postgres:local"}, true, "slipway-postgres:local", ""},
		{"a word that is not yes or no is refused", map[string]string{"SLIPWAY_DATABASE": "postgres"}, false, pgname.DefaultImage, "SLIPWAY_DATABASE=\"postgres\" is not a yes/no setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := LoadDatabase(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || d.On != tt.wantOn || d.Image != tt.wantImage {
				t.Fatalf("got %+v, %v; want on=%v image=%s", d, err, tt.wantOn, tt.wantImage)
			}
		})
	}
}
