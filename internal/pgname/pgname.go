// Package pgname names the app database's server image: the official one a
// user's machine pulls, the one local:dbImage builds from Debian's
// packages, and the setting that chooses. It imports nothing, so the
// configuration can name them without the Docker SDK (package pgimage
// builds the image).
package pgname

const (
	// Major is the PostgreSQL major version of both images, the same as the
	// Aurora cluster's (infra.DatabaseEngineVersion; a test holds them
	// together).
	Major = "17"
	// DefaultImage is the database image on a user's machine, pulled when
	// missing.
	DefaultImage = "postgres:" + Major
	// Repository is the local image's repository.
	Repository = "slipway-postgres"
	// LocalTag is the name local:dbImage gives the local image, for
	// SLIPWAY_DB_IMAGE.
	LocalTag = Repository + ":" + Major
	// EnvImage is the setting that overrides DefaultImage.
	EnvImage = "SLIPWAY_DB_IMAGE"
)

// ImageFromEnv returns the database image to run: $SLIPWAY_DB_IMAGE, or
// DefaultImage.
func ImageFromEnv(getenv func(string) string) string {
	if v := getenv(EnvImage); v != "" {
		return v
	}
	return DefaultImage
}
